package dev.workflowworker.redis.internal.client;

import java.util.AbstractMap;
import java.util.AbstractSet;
import java.util.Iterator;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;

/**
 * The fields of a compact entry as a read-only map: the wire names, in their order, over the
 * values read. A decoded entry's fields are looked up a dozen times and otherwise only kept (for a
 * dead letter or a re-publish), so a hash map's eleven nodes and table per entry were the reader's
 * largest allocation and about a tenth of its thread's CPU (docs/BENCHMARKS.md, "JVM path"). Lookups compare the
 * wire names by identity first: callers pass the same constants.
 */
final class NamedValues extends AbstractMap<String, String> {

    private final String[] names;
    private final String[] values;

    /**
     * @param names  the names, shared and never changed
     * @param values one per name, none null; owned by this map from now on
     */
    NamedValues(String[] names, String[] values) {
        this.names = names;
        this.values = values;
    }

    private int indexOf(Object key) {
        for (int i = 0; i < names.length; i++) {
            if (names[i] == key) {
                return i;
            }
        }
        if (key instanceof String) {
            for (int i = 0; i < names.length; i++) {
                if (names[i].equals(key)) {
                    return i;
                }
            }
        }
        return -1;
    }

    @Override
    public String get(Object key) {
        int i = indexOf(key);
        return i < 0 ? null : values[i];
    }

    @Override
    public boolean containsKey(Object key) {
        return indexOf(key) >= 0;
    }

    @Override
    public int size() {
        return names.length;
    }

    @Override
    public Set<Entry<String, String>> entrySet() {
        return new AbstractSet<>() {
            @Override
            public Iterator<Entry<String, String>> iterator() {
                return new Iterator<>() {
                    private int next;

                    @Override
                    public boolean hasNext() {
                        return next < names.length;
                    }

                    @Override
                    public Entry<String, String> next() {
                        if (next >= names.length) {
                            throw new NoSuchElementException();
                        }
                        int i = next++;
                        return Map.entry(names[i], values[i]);
                    }
                };
            }

            @Override
            public int size() {
                return names.length;
            }
        };
    }
}
