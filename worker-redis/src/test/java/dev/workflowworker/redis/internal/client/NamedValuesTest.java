package dev.workflowworker.redis.internal.client;

import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The compact entry's fields map keeps the Map contract its users rely on (dead letters, re-publish, tests). */
class NamedValuesTest {

    private static final String[] NAMES = {"event_id", "execution_id", "payload_json"};

    private static NamedValues map() {
        return new NamedValues(NAMES, new String[] {"e-1", "x-1", "{}"});
    }

    @Test
    void looksUpAnEqualNameThatIsNotTheSameInstance() {
        NamedValues m = map();
        String name = new String("execution_id".toCharArray());
        assertEquals("x-1", m.get(name));
        assertTrue(m.containsKey(name));
        assertNull(m.get("attempt"));
        assertFalse(m.containsKey("attempt"));
        assertNull(m.get(42));
    }

    @Test
    void equalsAndHashesAsTheLinkedMapOfTheSameFieldsInTheNamesOrder() {
        Map<String, String> linked = new LinkedHashMap<>();
        linked.put("event_id", "e-1");
        linked.put("execution_id", "x-1");
        linked.put("payload_json", "{}");
        NamedValues m = map();
        assertEquals(linked, m);
        assertEquals(m, linked);
        assertEquals(linked.hashCode(), m.hashCode());
        assertEquals(List.copyOf(linked.entrySet()), List.copyOf(m.entrySet()));
        assertEquals(linked, new LinkedHashMap<>(m), "a copy, as a re-publish makes, holds the same");
    }

    @Test
    void isReadOnly() {
        NamedValues m = map();
        assertThrows(UnsupportedOperationException.class, () -> m.put("attempt", "2"));
        assertThrows(UnsupportedOperationException.class, () -> m.entrySet().iterator().next().setValue("x"));
    }
}
