package dev.workflowworker.api;

import java.util.Optional;

/**
 * Decides the {@link ErrorCategory} of a failure. Hosts register classifiers for their own
 * exception types. A failure is classified by the first of: the exception's own type (a
 * {@link WorkflowException} subclass), the host's classifiers in registration order, the
 * transport's {@link dev.workflowworker.api.spi.EventTransport#errorClassifiers()}, the engine's defaults.
 */
@FunctionalInterface
public interface ErrorClassifier {

    /**
     * Classifies a failure.
     *
     * @param error the failure thrown by a handler or raised while processing
     * @return the category, or empty to let the next classifier decide
     */
    Optional<ErrorCategory> classify(Throwable error);

    /**
     * A classifier that maps every exception of a type (and its subtypes) to a category.
     *
     * @param type     the exception type
     * @param category the category
     * @return the classifier
     */
    static ErrorClassifier of(Class<? extends Throwable> type, ErrorCategory category) {
        Optional<ErrorCategory> result = Optional.of(category);
        return error -> type.isInstance(error) ? result : Optional.empty();
    }
}
