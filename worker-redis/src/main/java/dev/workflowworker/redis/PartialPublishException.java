package dev.workflowworker.redis;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * A batch publish on a Redis Cluster whose events went to several nodes, some of which failed:
 * the events of the nodes that answered are published, those of the failed ones are not
 * confirmed. An unconfirmed event was either not sent (its node was known down) or its reply was
 * lost, so it may or may not be in the stream: publishing it again may write it twice. A second
 * copy is recognised by its event id while the first is remembered: on a partitioned stream among
 * its partition's last 16,384 completions, on the shared stream within
 * {@code processedTtl}; a republish later than that runs the event again. Thrown by
 * {@link RedisEventTransport#publishAll} instead of failing the whole batch. See
 * docs/ARCHITECTURE.md, "Redis Cluster".
 */
public class PartialPublishException extends RedisUnavailableException {
    private static final long serialVersionUID = 1L;

    /** Per event, in the order given, its new entry id; null where it is not confirmed. */
    private final List<String> ids;
    /** The positions of the events not confirmed, ascending. */
    private final List<Integer> unconfirmed;

    /**
     * Reports a batch publish that landed in part.
     *
     * @param ids         per event, in the order given, its new entry id; null where unconfirmed
     * @param unconfirmed the positions of the unconfirmed events, ascending
     * @param cause       the failure of one of the failed nodes
     */
    public PartialPublishException(List<String> ids, List<Integer> unconfirmed, Throwable cause) {
        super("published " + (ids.size() - unconfirmed.size()) + " of " + ids.size() + " events; events at "
                + unconfirmed + " are not confirmed (their cluster node failed: "
                + (cause == null ? "unknown" : cause.getMessage()) + ")", cause);
        this.ids = Collections.unmodifiableList(new ArrayList<>(ids));
        this.unconfirmed = List.copyOf(unconfirmed);
    }

    /** {@return per event, in the order given, its new entry id, or null where it is not confirmed} */
    public List<String> ids() {
        return ids;
    }

    /** {@return the positions of the events not confirmed, ascending} */
    public List<Integer> unconfirmed() {
        return unconfirmed;
    }
}
