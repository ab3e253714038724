package dev.workflowworker.spring.boot;

import dev.workflowworker.api.EventPublisher;
import dev.workflowworker.api.WorkflowRuntime;
import dev.workflowworker.core.WorkerService;

/**
 * A bean that adjusts the auto-configured {@link WorkerService} before it is built: settings the
 * properties do not cover ({@code errorClassifier}, {@code lockProvider}, {@code timeSource}), or a
 * decoration of the runtime and the publisher (the tracing does both). Customizers run in
 * {@code @Order} order.
 */
@FunctionalInterface
public interface WorkerServiceCustomizer {

    /**
     * Adjusts the builder; the properties, the transport, the runtime and the listener beans are
     * already applied.
     *
     * @param builder the service's builder
     */
    void customize(WorkerService.Builder builder);

    /**
     * Wraps the runtime the service runs, e.g. in a span or a transaction.
     *
     * @param runtime the runtime so far
     * @return the runtime to use; the given one by default
     */
    default WorkflowRuntime decorateRuntime(WorkflowRuntime runtime) {
        return runtime;
    }

    /**
     * Wraps the {@link EventPublisher} bean.
     *
     * @param publisher the publisher so far
     * @return the publisher to expose; the given one by default
     */
    default EventPublisher decoratePublisher(EventPublisher publisher) {
        return publisher;
    }
}
