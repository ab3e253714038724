package dev.workflowworker.api;

/** A failure worth retrying at once (see {@link ErrorCategory#TRANSIENT}). */
public class TransientWorkflowException extends WorkflowException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception with a detail message.
     *
     * @param message the detail message
     */
    public TransientWorkflowException(String message) {
        super(message);
    }

    /**
     * Creates the exception with a detail message and a cause.
     *
     * @param message the detail message
     * @param cause   the cause
     */
    public TransientWorkflowException(String message, Throwable cause) {
        super(message, cause);
    }

    @Override
    public ErrorCategory category() {
        return ErrorCategory.TRANSIENT;
    }
}
