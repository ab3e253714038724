package dev.workflowworker.redis.internal.partitioned;

import dev.workflowworker.redis.internal.client.StreamClient;
import dev.workflowworker.redis.internal.client.StreamEntries;
import dev.workflowworker.redis.internal.client.Topology;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.CommandArguments;
import redis.clients.jedis.Connection;
import redis.clients.jedis.Protocol;
import redis.clients.jedis.exceptions.JedisDataException;
import redis.clients.jedis.exceptions.JedisException;

import java.util.List;

/**
 * The router's reads of the single stream, on a connection of its own to the stream's node: a
 * group read fenced by the router lease with {@code WATCH}/{@code MULTI}/{@code EXEC}, plain
 * commands whose replies Redis writes as they are (a script converting an {@code XREADGROUP}
 * reply into Lua tables and back cost about 5 µs of Redis CPU per routed entry), and the
 * blocking wait for new entries. The previous batch's {@code XACK} rides in the read's first
 * round trip. The lease key carries the stream's hash tag, so on a cluster the transaction runs
 * on one node. Why this keeps the router's promises: docs/ARCHITECTURE.md, "The single stream".
 */
public final class RouterRead {

    private static final Logger log = LoggerFactory.getLogger(RouterRead.class);
    /**
     * Rounds of one read: a transaction aborted because the lease key changed between WATCH and
     * EXEC (a renewal), or a group re-created after NOGROUP, is tried again up to this many times.
     */
    private static final int ATTEMPTS = 3;

    /**
     * What a read found: the entries (empty when none) and the stream's newest id; a null newest
     * id when the transaction was aborted each time and nothing was read.
     */
    public record Batch(List<?> entries, String newest) {
    }

    private final StreamClient client;
    private final String stream;
    private final String lease;
    private final String group;
    private volatile Connection connection;

    public RouterRead(StreamClient client, String stream, String lease, String group) {
        this.client = client;
        this.stream = stream;
        this.lease = lease;
        this.group = group;
    }

    /**
     * Acks {@code routed} (entries routed by the previous batch), then reads up to {@code count}
     * entries from {@code start} if the lease still holds {@code leaseValue}: the read moves entries
     * into the pending list only while the lease is this router's, as a script checking it would.
     * Never repeated: a read whose reply was lost still delivered its entries.
     *
     * @return the batch; null if the lease holds another value (or none)
     */
    public Batch read(List<String> routed, String leaseValue, int count, String start) {
        try {
            for (int attempt = 1; ; attempt++) {
                Connection c = connection();
                int sent = 0;
                if (!routed.isEmpty()) {
                    CommandArguments ack = new CommandArguments(Protocol.Command.XACK).key(stream).add(group);
                    for (String id : routed) {
                        ack.add(id);
                    }
                    c.sendCommand(ack);
                    sent++;
                }
                c.sendCommand(new CommandArguments(Protocol.Command.WATCH).key(lease));
                c.sendCommand(new CommandArguments(Protocol.Command.GET).key(lease));
                List<Object> first = c.getMany(sent + 2);
                routed = List.of();
                for (Object r : first) {
                    if (r instanceof JedisDataException e) {
                        c.executeCommand(new CommandArguments(Protocol.Command.UNWATCH));
                        throw e;
                    }
                }
                Object holder = first.get(sent + 1);
                if (holder == null || !leaseValue.equals(StreamEntries.text(holder))) {
                    c.executeCommand(new CommandArguments(Protocol.Command.UNWATCH));
                    return null;
                }
                c.sendCommand(new CommandArguments(Protocol.Command.MULTI));
                c.sendCommand(new CommandArguments(Protocol.Command.XREADGROUP).add("GROUP").add(group).add("owner")
                        .add("COUNT").add(count).add("STREAMS").key(stream).add(start));
                c.sendCommand(new CommandArguments(Protocol.Command.XREVRANGE).key(stream).add("+").add("-")
                        .add("COUNT").add(1));
                c.sendCommand(new CommandArguments(Protocol.Command.EXEC));
                List<Object> tx = c.getMany(4);
                for (int i = 0; i < 3; i++) {
                    if (tx.get(i) instanceof JedisDataException e) {
                        throw e;
                    }
                }
                if (tx.get(3) instanceof JedisDataException e) {
                    throw e;
                }
                if (!(tx.get(3) instanceof List<?> replies)) {
                    // Aborted: the lease key changed after the WATCH (a renewal, an expiry, a new
                    // holder); nothing was read. Check the lease again.
                    if (attempt >= ATTEMPTS) {
                        return new Batch(List.of(), null);
                    }
                    continue;
                }
                if (replies.get(0) instanceof JedisDataException e) {
                    if (e.getMessage() != null && e.getMessage().startsWith("NOGROUP") && attempt < ATTEMPTS) {
                        // Redis lost the group (restarted empty): re-create it from the start, as
                        // entries published since the restart were never delivered, and read again.
                        client.createGroup(stream, group, "0");
                        continue;
                    }
                    throw e;
                }
                List<?> newest = replies.get(1) instanceof List<?> n ? n : List.of();
                String last = newest.isEmpty() ? "0-0" : StreamEntries.text(((List<?>) newest.get(0)).get(0));
                if (!(replies.get(0) instanceof List<?> streams) || streams.isEmpty()) {
                    return new Batch(List.of(), last);
                }
                List<?> entries = (List<?>) ((List<?>) streams.get(0)).get(1);
                return new Batch(entries == null ? List.of() : entries, last);
            }
        } catch (JedisException e) {
            throw failed("read " + stream + " for routing", e);
        }
    }

    /** Waits on Redis for an entry of the stream after {@code lastSeen}, up to {@code blockMs}. */
    void block(String lastSeen, long blockMs) {
        try {
            blockOn(lastSeen, blockMs);
        } catch (JedisException e) {
            if (!Topology.notRunHere(e)) {
                throw e;
            }
            // Refreshed by failed(): the next wait blocks on the slot's new node.
        }
    }

    private void blockOn(String lastSeen, long blockMs) {
        try {
            Connection c = connection();
            c.setSoTimeout((int) (client.connector().socketTimeoutMillis() + blockMs));
            try {
                c.executeCommand(new CommandArguments(Protocol.Command.XREAD).add("COUNT").add(1).add("BLOCK")
                        .add(blockMs).add("STREAMS").key(stream).add(lastSeen));
            } finally {
                if (c.isConnected()) {
                    c.rollbackTimeout();
                }
            }
        } catch (JedisException e) {
            throw failed("wait for entries of " + stream, e);
        }
    }

    private RuntimeException failed(String what, JedisException e) {
        // A connection in an unknown state (a WATCH or MULTI half done) is never used again.
        close();
        if (Topology.notRunHere(e)) {
            // The stream's slot moved: the next call opens a connection to its new node.
            Topology.refresh(client.redis());
            return e;
        }
        return e instanceof JedisDataException ? e : client.unavailable(what, e);
    }

    private Connection connection() {
        Connection c = connection;
        if (c == null || !c.isConnected() || c.isBroken()) {
            close();
            c = client.connector().newDedicatedConnection(client.redis(), stream);
            connection = c;
        }
        return c;
    }

    public void close() {
        Connection c = connection;
        connection = null;
        if (c != null) {
            try {
                c.close();
            } catch (RuntimeException e) {
                log.debug("closing the router's connection failed: {}", e.toString());
            }
        }
    }
}
