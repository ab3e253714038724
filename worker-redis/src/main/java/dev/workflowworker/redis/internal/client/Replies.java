package dev.workflowworker.redis.internal.client;

import redis.clients.jedis.HostAndPort;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The replies of pipelined calls in call order, where on a cluster a call may have none: its
 * node's connection failed (or could not be had), so whether it ran is unknown. The other
 * nodes' replies are whole. See docs/ARCHITECTURE.md, "Redis Cluster".
 */
public final class Replies {

    private final Object[] values;
    /** Per call, why it has no reply; null where it has one. */
    private final RuntimeException[] failures;
    private int failed;
    /** Per call, whether it was sent again after a broken connection: the first send may have run too. */
    private final boolean[] resent;
    /** The nodes whose connection failed, so that some calls have no reply. */
    private List<HostAndPort> failedNodes = List.of();

    Replies(int n) {
        values = new Object[n];
        failures = new RuntimeException[n];
        resent = new boolean[n];
    }

    void resent(int call) {
        resent[call] = true;
    }

    /**
     * {@return whether call {@code i} was sent again after its connection broke}: its reply is the
     * second send's, and what the first did, if it ran, is not in it (it may have run twice).
     */
    public boolean wasResent(int i) {
        return resent[i];
    }

    void set(int call, Object value) {
        values[call] = value;
    }

    void fail(int call, RuntimeException why) {
        if (failures[call] == null) {
            failed++;
        }
        failures[call] = why;
    }

    /**
     * Out of redirect rounds: each call of {@code again[0..count)} still answered "not here, not
     * now" ({@code redirects[j]} set) fails with that answer, as it did nothing; the others move to
     * the front of {@code again}, to be sent again.
     *
     * @return how many stay in {@code again}
     */
    int failRedirected(int[] again, RuntimeException[] redirects, int count) {
        int kept = 0;
        for (int j = 0; j < count; j++) {
            if (redirects[j] != null) {
                fail(again[j], redirects[j]);
            } else {
                again[kept++] = again[j];
            }
        }
        return kept;
    }

    void nodeFailed(HostAndPort node) {
        if (failedNodes.isEmpty()) {
            failedNodes = new ArrayList<>(1);
        }
        if (!failedNodes.contains(node)) {
            failedNodes.add(node);
        }
    }

    /** {@return the cluster nodes whose connection failed in these calls (each once); empty if none did} */
    public List<HostAndPort> failedNodes() {
        return failedNodes;
    }

    public int size() {
        return values.length;
    }

    /**
     * {@return whether call {@code i} has no reply, its node having failed} In the replies a
     * {@link CallFailed} carries, a call answered with an error reply has it as its failure too.
     */
    public boolean failed(int i) {
        return failures[i] != null;
    }

    /** {@return why call {@code i} has no reply, or null if it has one} */
    public RuntimeException failure(int i) {
        return failures[i];
    }

    /** {@return whether some call has no reply} */
    boolean anyFailed() {
        return failed > 0;
    }

    /** {@return whether no call has a reply: every node they went to failed} */
    public boolean allFailed() {
        return values.length > 0 && failed == values.length;
    }

    /**
     * {@return these replies, when at least one call has one}
     *
     * @throws RuntimeException the first call's failure when every call failed: nothing was
     *     reached, which the caller reports as Redis being unavailable rather than as a partial loss
     */
    public Replies requireAny() {
        if (allFailed()) {
            throw failures[0];
        }
        return this;
    }

    /**
     * {@return the reply of call {@code i}}
     *
     * @throws RuntimeException why it has none, when its node failed
     */
    public Object get(int i) {
        if (failures[i] != null) {
            throw failures[i];
        }
        return values[i];
    }

    /**
     * {@return every reply, in call order}, for callers to whom one missing reply fails the lot
     *
     * @throws RuntimeException the failure of the first call that has no reply
     */
    public List<Object> all() {
        if (failed > 0) {
            for (RuntimeException f : failures) {
                if (f != null) {
                    throw f;
                }
            }
        }
        return Arrays.asList(values);
    }
}
