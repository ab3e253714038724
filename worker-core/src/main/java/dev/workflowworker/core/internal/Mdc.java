package dev.workflowworker.core.internal;

import dev.workflowworker.api.spi.Delivery;
import org.slf4j.MDC;

/** The MDC keys set while a handler runs, so that host log lines carry the event they belong to. */
final class Mdc {

    static final String WORKER_ID = "workerId";
    static final String ATTEMPT = "attempt";
    static final String EVENT_ID = "eventId";
    static final String EVENT_TYPE = "eventType";
    static final String EXECUTION_ID = "executionId";

    /** Attempts as text: nearly every delivery is on one of the first few, formatted once here. */
    private static final String[] ATTEMPTS = new String[17];

    static {
        for (int i = 0; i < ATTEMPTS.length; i++) {
            ATTEMPTS[i] = Integer.toString(i);
        }
    }

    private Mdc() {
    }

    /** {@return the attempt as the MDC's text} */
    static String attempt(int attempt) {
        return attempt >= 0 && attempt < ATTEMPTS.length ? ATTEMPTS[attempt] : Integer.toString(attempt);
    }

    static void put(String workerId, Delivery d) {
        MDC.put(WORKER_ID, workerId);
        MDC.put(ATTEMPT, attempt(d.attempt()));
        String eventId = d.eventId();
        if (eventId != null) {
            MDC.put(EVENT_ID, eventId);
        }
        if (d.event() != null) {
            MDC.put(EVENT_TYPE, d.event().eventType());
            if (d.event().executionId() != null) {
                MDC.put(EXECUTION_ID, d.event().executionId());
            }
        }
    }

    static void clear() {
        MDC.remove(WORKER_ID);
        MDC.remove(ATTEMPT);
        MDC.remove(EVENT_ID);
        MDC.remove(EVENT_TYPE);
        MDC.remove(EXECUTION_ID);
    }
}
