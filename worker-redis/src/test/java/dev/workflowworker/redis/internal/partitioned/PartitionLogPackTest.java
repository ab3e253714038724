package dev.workflowworker.redis.internal.partitioned;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The commit's packed event ids, as the commit script reads them: each length in UTF-8 bytes, at any size. */
class PartitionLogPackTest {

    @Test
    void packsEachIdWithItsUtf8LengthAcrossTheDigitBoundaries() {
        List<String> ids = new ArrayList<>();
        for (int len : new int[] {1, 9, 10, 99, 100, 1234}) {
            ids.add("x".repeat(len));
        }
        ids.add(null);
        ids.add("");
        ids.add("é€😀");
        StringBuilder expected = new StringBuilder();
        int n = 0;
        for (String id : ids) {
            if (id != null && !id.isEmpty()) {
                expected.append(id.getBytes(StandardCharsets.UTF_8).length).append(':').append(id);
                n++;
            }
        }
        assertEquals(n + "|" + expected, PartitionLog.pack(ids));
    }

    @Test
    void noIdsPackToNothing() {
        assertEquals("", PartitionLog.pack(Arrays.asList(null, "")));
    }
}
