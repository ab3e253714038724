package dev.workflowworker.redis.internal.client;

import redis.clients.jedis.CommandArguments;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Response;
import redis.clients.jedis.exceptions.JedisAskDataException;
import redis.clients.jedis.exceptions.JedisDataException;

/**
 * The {@code ASK} redirects of one {@link Topology#sendEach}. While a slot migrates, its old node
 * answers {@code ASK slot host:port} for a call whose keys it no longer holds: that node still owns
 * the slot by the map, so sending the call there again (after a refresh, however often) is answered
 * the same until the migration ends. The importing node runs the call only right after
 * {@code ASKING} on the same connection; so a call answered ASK is sent once more, to the named node
 * and behind {@code ASKING}, in the next round, without a refresh or a pause (docs/ARCHITECTURE.md,
 * "Redis Cluster"). ASK, like MOVED, means the call did nothing where it was sent, so this is safe for
 * a call that must not run twice; the script run there checks its lease on that node as anywhere.
 */
final class AskRedirects {

    /** Per call, the node that asked for it; null for a call routed by the slot map. */
    private HostAndPort[] at;

    /** {@return call {@code i} queued on {@code p}: on the node that asked for it, or by its key's slot} */
    Response<Object> send(Sender p, int i, String key, CommandArguments args) {
        HostAndPort node = nodeOf(i);
        return node == null ? p.send(key, args) : p.sendAsking(node, args);
    }

    /** {@return the node call {@code i} goes to behind ASKING; null if it goes by the slot map} */
    HostAndPort nodeOf(int i) {
        return at == null ? null : at[i];
    }

    /**
     * Takes the "not run here" reply {@code e} of call {@code i}: an ASK sends the call to the node
     * it names next round; any other (MOVED, TRYAGAIN, CLUSTERDOWN, or ASK from the node asked
     * already) sends it by the slot map again.
     *
     * @param calls the calls of the {@link Topology#sendEach}
     * @return true for an ASK to be followed, which needs no fresh slot map and no pause
     */
    boolean follow(int i, int calls, JedisDataException e) {
        boolean asked = nodeOf(i) != null;
        if (asked) {
            at[i] = null;
        }
        if (!(e instanceof JedisAskDataException ask) || asked) {
            return false;
        }
        if (at == null) {
            at = new HostAndPort[calls];
        }
        at[i] = ask.getTargetNode();
        return true;
    }
}
