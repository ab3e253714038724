package dev.workflowworker.api;

import java.util.Locale;

/**
 * The lifecycle state of one worker. A worker moves from {@link #RUNNING} (or {@link #PAUSED} and
 * back) to {@link #STOPPING} and {@link #STOPPED}; a worker whose loop died, or whose close failed,
 * is {@link #CRASHED}, and one the health monitor gave up on is {@link #REPLACED} by a fresh one.
 */
public enum WorkerState {
    /** Reading and processing events. */
    RUNNING,
    /** Not reading new events on request; in-flight events go on. */
    PAUSED,
    /** No longer reading; in-flight events are finishing. */
    STOPPING,
    /** Stopped and its consumer closed. */
    STOPPED,
    /** Its loop died of an unexpected error (the health monitor replaces it), or closing it failed. */
    CRASHED,
    /** The health monitor retired it and started another worker in its place. */
    REPLACED;

    private final String json = name().toLowerCase(Locale.ROOT);

    /** {@return the lower-case name used in the health JSON and in logs ({@code "running"}, ...)} */
    public String jsonValue() {
        return json;
    }

    /** {@return true for the states in which the worker reads or may resume reading} */
    public boolean isLive() {
        return this == RUNNING || this == PAUSED;
    }
}
