package dev.workflowworker.api;

/** A failure no retry can fix; the event is dead-lettered (see {@link ErrorCategory#PERMANENT}). */
public class PermanentWorkflowException extends WorkflowException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception with a detail message.
     *
     * @param message the detail message, stored as the dead letter's {@code error_message}
     */
    public PermanentWorkflowException(String message) {
        super(message);
    }

    /**
     * Creates the exception with a detail message and a cause.
     *
     * @param message the detail message
     * @param cause   the cause
     */
    public PermanentWorkflowException(String message, Throwable cause) {
        super(message, cause);
    }

    @Override
    public ErrorCategory category() {
        return ErrorCategory.PERMANENT;
    }
}
