package dev.workflowworker.api;

import java.util.Locale;

/** The health of a worker or of the whole service. */
public enum HealthStatus {
    /** Functioning normally. */
    HEALTHY,
    /** Experiencing issues but still operational. */
    DEGRADED,
    /** Not functioning: stopped, crashed or stuck. */
    UNHEALTHY;

    private final String json = name().toLowerCase(Locale.ROOT);

    /** {@return the lower-case name used in the health JSON ({@code "healthy"}, ...)} */
    public String jsonValue() {
        return json;
    }
}
