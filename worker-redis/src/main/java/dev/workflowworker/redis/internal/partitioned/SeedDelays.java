package dev.workflowworker.redis.internal.partitioned;

import dev.workflowworker.api.spi.Delivery;
import dev.workflowworker.core.wire.WireFormat;
import dev.workflowworker.redis.internal.client.StreamEntries;
import dev.workflowworker.redis.internal.time.DelayedStore;

import java.util.List;

/**
 * The router's side of delayed events written in the seed format: an entry of the single stream
 * with a {@value WireFormat#DUE_AT} field goes into its partition's delayed store, in the routing
 * script that sets the routed mark (route.lua), so a router that crashes and reads again neither
 * loses nor doubles it. Once stored it is what {@code publishAt} stores: cancel, reschedule and
 * {@code waiting()} see no difference. See docs/ARCHITECTURE.md, "Time".
 */
final class SeedDelays {

    /** In place of a field count, marks a routing record as a delayed entry (route.lua). */
    static final String RECORD = "D";

    private SeedDelays() {
    }

    /**
     * The routing record of an entry with a {@value WireFormat#DUE_AT} field: source id,
     * {@link #RECORD}, event id, due time in ms, stored entry ({@link DelayedStore#storeWritten},
     * compact when the entry is the eleven wire fields and {@code due_at}). Null when the entry
     * is to be routed as it is: one the readers dead-letter (an unreadable due_at among the
     * reasons), so it is dead-lettered at once rather than after waiting, and one whose due_at is
     * {@code ''}.
     */
    static List<Object> record(String id, List<?> raw, WireFormat codec) {
        Delivery d = StreamEntries.toDelivery(id, raw, codec);
        if (d.isMalformed()) {
            return null;
        }
        long due = WireFormat.dueAtMillis(d.fields().get(WireFormat.DUE_AT));
        if (due < 0) {
            return null;
        }
        return List.of(id, RECORD, d.event().eventId(), Long.toString(due),
                DelayedStore.storeWritten(d.fields(), d.event().headers(), due));
    }
}
