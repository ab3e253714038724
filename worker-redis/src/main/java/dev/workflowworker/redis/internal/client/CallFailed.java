package dev.workflowworker.redis.internal.client;

import redis.clients.jedis.exceptions.JedisDataException;

/**
 * An error reply to one call of a pipeline (a script error), thrown once the pipeline's other
 * calls have their replies, which it carries: those calls ran, and their effects stand whatever
 * the caller makes of this one's. Its message is the error reply's, so a caller that only asks
 * what the error was sees what it saw before.
 */
public final class CallFailed extends JedisDataException {

    private static final long serialVersionUID = 1L;

    private final transient Replies replies;

    private CallFailed(JedisDataException first, Replies replies) {
        super(first.getMessage(), first);
        this.replies = replies;
    }

    /**
     * {@return {@code out}, unless a call failed with an error reply: then the first such one is
     * thrown, carrying them}
     */
    static Replies unless(Replies out) {
        for (int i = 0; out.anyFailed() && i < out.size(); i++) {
            if (out.failure(i) instanceof JedisDataException e) {
                throw new CallFailed(e, out);
            }
        }
        return out;
    }

    /** {@return every call's reply, where a call that failed (this one, and any other) has its failure} */
    public Replies replies() {
        return replies;
    }
}
