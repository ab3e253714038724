package dev.workflowworker.redis.internal.partitioned;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The window of recent completions against the insertion-ordered set it replaced, evictions and collisions included. */
class PartitionLogRecentTest {

    @Test
    void behavesAsABoundedInsertionOrderedSet() {
        Random random = new Random(7);
        for (int cap : new int[] {1, 2, 3, 8, 100}) {
            PartitionLog.Recent recent = new PartitionLog.Recent(cap);
            LinkedHashSet<String> model = new LinkedHashSet<>();
            for (int step = 0; step < 20_000; step++) {
                // few distinct ids, so re-adds and lookups of evicted ids are frequent
                String id = "e" + random.nextInt(cap * 3 + 2);
                if (random.nextBoolean()) {
                    recent.add(id);
                    if (model.add(id) && model.size() > cap) {
                        var it = model.iterator();
                        it.next();
                        it.remove();
                    }
                }
                assertEquals(model.contains(id), recent.contains(id), "cap " + cap + ", step " + step + ", id " + id);
                assertEquals(model.size(), recent.size());
            }
            for (String id : model) {
                assertTrue(recent.contains(id));
            }
        }
    }

    @Test
    void idsWithEqualHashCodesAreToldApartAndSurviveEvictionsAroundThem() {
        // "Aa" and "BB" share a hashCode; concatenations of them do too, so all of these probe one run.
        List<String> same = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            StringBuilder sb = new StringBuilder();
            for (int b = 0; b < 4; b++) {
                sb.append((i >> b & 1) == 0 ? "Aa" : "BB");
            }
            same.add(sb.toString());
        }
        PartitionLog.Recent recent = new PartitionLog.Recent(8);
        for (String id : same) {
            recent.add(id);
        }
        for (int i = 0; i < 16; i++) {
            assertEquals(i >= 8, recent.contains(same.get(i)), same.get(i));
        }
        recent.add("other");
        assertFalse(recent.contains(same.get(8)), "the oldest is forgotten first");
        assertTrue(recent.contains("other"));
        for (int i = 9; i < 16; i++) {
            assertTrue(recent.contains(same.get(i)), same.get(i));
        }
    }

    @Test
    @Timeout(60) // a wrong cell pointer can fill the index, and an insert then probes forever
    void forgettingTheOldestFindsItAfterItsCellWasMovedByEarlierEvictions() {
        // Long runs of equal hashes: each eviction moves later cells of the run back, so the cell a
        // ring slot points at must follow its id, or a later eviction empties another id's cell.
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 256; i++) {
            StringBuilder sb = new StringBuilder();
            for (int b = 0; b < 8; b++) {
                sb.append((i >> b & 1) == 0 ? "Aa" : "BB");
            }
            ids.add(sb.toString());
            ids.add("x" + i);
        }
        Random random = new Random(11);
        for (int cap : new int[] {5, 64, 300}) {
            PartitionLog.Recent recent = new PartitionLog.Recent(cap);
            LinkedHashSet<String> model = new LinkedHashSet<>();
            for (int step = 0; step < 50_000; step++) {
                String id = ids.get(random.nextInt(ids.size()));
                recent.add(id);
                if (model.add(id) && model.size() > cap) {
                    var it = model.iterator();
                    it.next();
                    it.remove();
                }
                if (step % 97 == 0) {
                    for (String each : ids) {
                        assertEquals(model.contains(each), recent.contains(each), "cap " + cap + ", step " + step);
                    }
                }
            }
            assertEquals(model.size(), recent.size());
        }
    }

    @Test
    void anEmptyIdIsNeverRemembered() {
        PartitionLog.Recent recent = new PartitionLog.Recent(4);
        recent.add("");
        assertFalse(recent.contains(""));
        assertEquals(0, recent.size());
    }
}
