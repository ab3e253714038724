package dev.workflowworker.api;

/**
 * The root of every exception the library defines, so a host can catch the library's failures
 * with one type. Misuse (a bad argument, a call in the wrong state) is reported with the JDK's
 * {@link IllegalArgumentException}, {@link IllegalStateException} and {@link NullPointerException}
 * instead. A handler that throws one of the three category subclasses decides its own
 * classification; the engine honours it before consulting any {@link ErrorClassifier}.
 */
public abstract class WorkflowException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception with a detail message.
     *
     * @param message the detail message
     */
    protected WorkflowException(String message) {
        super(message);
    }

    /**
     * Creates the exception with a detail message and a cause.
     *
     * @param message the detail message
     * @param cause   the cause
     */
    protected WorkflowException(String message, Throwable cause) {
        super(message, cause);
    }

    /** {@return how this failure is handled} */
    public abstract ErrorCategory category();
}
