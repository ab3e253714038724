package dev.workflowworker.redis;

import dev.workflowworker.api.ErrorCategory;
import dev.workflowworker.api.ErrorClassifier;
import redis.clients.jedis.exceptions.JedisConnectionException;
import redis.clients.jedis.exceptions.JedisDataException;

import java.util.Optional;

/**
 * Classifies Redis client failures for handlers that use Redis themselves: a lost or refused
 * connection ({@link JedisConnectionException}, {@link RedisUnavailableException}) is
 * {@link ErrorCategory#TRANSIENT}; a command, data or script error ({@link JedisDataException})
 * is never transient and is left to the next classifier (the engine's default makes it
 * recoverable). The whole cause chain is inspected.
 *
 * <p>A service on a {@link RedisEventTransport} uses it without being asked (see
 * {@link RedisEventTransport#errorClassifiers()}); register it with
 * {@code WorkerService.Builder.errorClassifier} when handlers use Redis under another transport.
 */
public final class RedisErrorClassifier implements ErrorClassifier {

    /** The shared instance; stateless. */
    public static final RedisErrorClassifier INSTANCE = new RedisErrorClassifier();

    private static final Optional<ErrorCategory> TRANSIENT = Optional.of(ErrorCategory.TRANSIENT);

    private RedisErrorClassifier() {
    }

    @Override
    public Optional<ErrorCategory> classify(Throwable error) {
        // Bounded walk: a cyclic cause chain must not hang the worker.
        Throwable t = error;
        for (int depth = 0; t != null && depth < 16; depth++, t = t.getCause()) {
            if (t instanceof JedisDataException) {
                return Optional.empty();
            }
            if (t instanceof JedisConnectionException || t instanceof RedisUnavailableException) {
                return TRANSIENT;
            }
        }
        return Optional.empty();
    }
}
