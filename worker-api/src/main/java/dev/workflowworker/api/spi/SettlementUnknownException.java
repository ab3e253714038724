package dev.workflowworker.api.spi;

import java.util.List;

/**
 * A settlement call ({@link EventTransport.Consumer#complete},
 * {@link EventTransport.LockingConsumer#completeAndRelease}) over deliveries the store settles in
 * separate steps (the partitions of a partitioned stream, say) failed part-way: the store could
 * not be reached, or failed some steps, after others may have stood. It says what became of each
 * delivery of the call, so that a caller counts each once and correctly:
 * <ul>
 *   <li>{@link #settled()}: their success stands; they are completed and never delivered again;</li>
 *   <li>{@link #refused()}: not settled, as a {@link SettlementRefusedException}'s: the lease they
 *       were read under is gone, and they stay pending and are delivered again;</li>
 *   <li>{@link #unknown()}: the step may or may not have landed (its reply was lost, or the store
 *       failed it midway). The transport finds out by itself, from what its store holds: one that
 *       landed is completed and never delivered again, one that did not is delivered again. The
 *       caller cannot tell which, so it counts them as neither a success nor a lost lease.</li>
 * </ul>
 * Every delivery of the call is in exactly one of the three lists. The cause is the failure that
 * left some unknown.
 */
public final class SettlementUnknownException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** Deliveries are not serializable; a deserialized exception keeps only its message and cause. */
    private final transient List<Delivery> settled;
    private final transient List<Delivery> refused;
    private final transient List<Delivery> unknown;

    /**
     * Creates the exception.
     *
     * @param message what failed, and how many of each kind
     * @param settled the deliveries whose settlement stands (the same instances the call was given)
     * @param refused the deliveries refused because their lease is gone; still pending
     * @param unknown the deliveries whose settlement may or may not have landed
     * @param cause   the failure that left some unknown
     */
    public SettlementUnknownException(String message, List<Delivery> settled, List<Delivery> refused,
                                      List<Delivery> unknown, Throwable cause) {
        super(message, cause);
        this.settled = List.copyOf(settled);
        this.refused = List.copyOf(refused);
        this.unknown = List.copyOf(unknown);
    }

    /** {@return the deliveries whose settlement stands; empty after deserialization} */
    public List<Delivery> settled() {
        return settled == null ? List.of() : settled;
    }

    /** {@return the deliveries refused because their lease is gone, still pending; empty after deserialization} */
    public List<Delivery> refused() {
        return refused == null ? List.of() : refused;
    }

    /** {@return the deliveries whose settlement may or may not have landed; empty after deserialization} */
    public List<Delivery> unknown() {
        return unknown == null ? List.of() : unknown;
    }
}
