package dev.workflowworker.core.schedule;

/**
 * A transport that keeps recurring schedules; {@code WorkerService.schedules()} finds them
 * through it.
 */
public interface Scheduling {

    /** {@return the schedules of the transport's stream} */
    Schedules schedules();
}
