package dev.workflowworker.api.spi;

import java.util.List;

/**
 * A transport refused to settle some deliveries of a {@link EventTransport.Consumer#complete},
 * {@link EventTransport.Consumer#acknowledge} or {@link EventTransport.Consumer#deadLetter} call because the lease they were read under is gone
 * (another process may own their partition now, or it was opened again since they were read).
 * Those deliveries stay pending and are delivered again; the call's other deliveries were settled.
 * The engine treats the refused ones as a lost lease, not as a transport failure: a lease passing
 * on is an ordinary event of a rebalance, and the next holder reads them again.
 */
public final class SettlementRefusedException extends IllegalStateException {

    private static final long serialVersionUID = 1L;

    /** Deliveries are not serializable; a deserialized exception keeps only its message. */
    private final transient List<Delivery> refused;

    /**
     * Creates the exception.
     *
     * @param message what was refused and why
     * @param refused the deliveries that were not settled (the same instances the call was given)
     */
    public SettlementRefusedException(String message, List<Delivery> refused) {
        super(message);
        this.refused = List.copyOf(refused);
    }

    /** {@return the deliveries that were not settled and stay pending; empty after deserialization} */
    public List<Delivery> refused() {
        return refused == null ? List.of() : refused;
    }
}
