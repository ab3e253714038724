package dev.workflowworker.core.schedule;

import java.util.Optional;

/**
 * A transport that can keep recurring schedules; {@code WorkerService.schedules()} finds them
 * through it.
 */
public interface Scheduling {

    /** {@return the schedules of the transport's stream, or empty when its mode keeps none} */
    Optional<Schedules> schedules();
}
