package dev.workflowworker.redis;

import java.util.Map;

/**
 * Reads a partition entry's event id as the wire contract writes it (docs/ARCHITECTURE.md, "The
 * wire contract"): the first value of the compact field {@code e:1}, or the named field. For
 * tests that look at partitions with XRANGE.
 */
final class PartitionEntries {

    private PartitionEntries() {
    }

    /** {@return the entry's event id, or null when it has none} */
    static String eventId(Map<String, String> fields) {
        String compact = fields.get("e:1");
        if (compact == null) {
            return fields.get("event_id");
        }
        // Lengths count UTF-8 bytes; the test ids are ASCII, where they count chars too.
        int colon = compact.indexOf(':');
        return compact.substring(colon + 1, colon + 1 + Integer.parseInt(compact.substring(0, colon)));
    }
}
