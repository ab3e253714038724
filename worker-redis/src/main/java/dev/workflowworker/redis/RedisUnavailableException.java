package dev.workflowworker.redis;

/**
 * Redis could not be reached (connection refused, reset or timed out). Thrown by publishing, by
 * consumer operations and by locks; the engine treats it as transient and retries. Its message
 * names the endpoint but never the password.
 */
public class RedisUnavailableException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    /**
     * @param message what failed and where; must not contain secrets
     * @param cause   the client's connection failure
     */
    public RedisUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
