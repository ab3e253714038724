package dev.workflowworker.redis;

import dev.workflowworker.api.TransientWorkflowException;

/**
 * Redis could not be reached (connection refused, reset or timed out). Thrown by publishing, by
 * consumer operations and by locks. It is transient: a handler that lets one escape (it used the
 * transport's publisher or locks, say) is retried at once, and the engine retries its own
 * operations. Its message names the endpoint but never the password.
 */
public class RedisUnavailableException extends TransientWorkflowException {
    private static final long serialVersionUID = 1L;

    /**
     * Wraps the client's connection failure in a transient workflow exception, so the engine
     * retries instead of dead-lettering.
     *
     * @param message what failed and where; must not contain secrets
     * @param cause the client's connection failure
     */
    public RedisUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
