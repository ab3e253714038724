package dev.workflowworker.redis.internal.partitioned;

import dev.workflowworker.redis.internal.client.StreamClient;
import dev.workflowworker.redis.internal.client.StreamEntries;
import dev.workflowworker.redis.internal.client.SubscriberConnection;
import dev.workflowworker.redis.internal.client.Topology;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.CommandArguments;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Protocol;
import redis.clients.jedis.exceptions.JedisDataException;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;

/**
 * One node's subscriptions for {@link NodeWaits}: a connection, and a thread reading it while any
 * are wanted. Its own class so that each of the two has one monitor: this one guards the
 * subscription's state, the waits' guards the reader's wait, and neither is taken inside the other.
 */
final class NodeSubscription implements Runnable {

    private static final Logger log = LoggerFactory.getLogger(NodeSubscription.class);

    final HostAndPort address;
    /** The channels the reader wants here; guarded by this. */
    private final Set<String> wanted = new HashSet<>();
    /** The channels subscribed to, or asked for, on the current connection; guarded by this. */
    private final Set<String> sent = new HashSet<>();
    /** The channels the node confirmed; guarded by this. */
    private final Set<String> confirmed = new HashSet<>();
    private SubscriberConnection connection;
    private boolean running;
    private long failedAt;
    private volatile long pingedAt;
    private volatile long pongAt;

    private final NodeWaits waits;
    private final StreamClient client;
    private final PartitionProbe probe;
    private final ExecutorService threads;

    NodeSubscription(HostAndPort address, NodeWaits waits, StreamClient client, PartitionProbe probe,
                     ExecutorService threads) {
        this.address = address;
        this.waits = waits;
        this.client = client;
        this.probe = probe;
        this.threads = threads;
    }

    /** The waits close: the connection goes, which ends the thread reading it. */
    synchronized void close() {
        closeConnection();
    }

    /**
     * {@return whether the wakes of every channel wanted here can be relied on}: the connection is
     * up, the node confirmed each channel, and no PING has gone unanswered longer than a poll
     * interval (a connection whose peer vanished answers none, and delivers no wake either)
     */
    synchronized boolean inPlace(long now) {
        if (wanted.isEmpty()) {
            return true;
        }
        return connection != null && confirmed.containsAll(wanted)
                && (pongAt >= pingedAt || now - pingedAt <= NodeWaits.POLL_MS);
    }

    synchronized boolean gone() {
        return wanted.isEmpty() && !running;
    }

    /** Subscribes to what is newly wanted and unsubscribes from the rest, on the reader's thread. */
    synchronized void want(Set<String> channels) {
        wanted.clear();
        wanted.addAll(channels);
        if (wanted.isEmpty()) {
            // Nothing owned here any more: the connection and its thread go.
            closeConnection();
            return;
        }
        if (!running) {
            if (waits.closed() || waits.now() - failedAt < NodeWaits.POLL_MS) {
                return; // failed a moment ago: the poll covers the node until the next wait
            }
            running = true;
            try {
                threads.execute(this);
            } catch (RuntimeException e) {
                running = false;
                throw e;
            }
            return;
        }
        SubscriberConnection c = connection;
        if (c == null) {
            return; // connecting: it subscribes to what is wanted then
        }
        try {
            for (String ch : new ArrayList<>(sent)) {
                if (!wanted.contains(ch)) {
                    c.send(new CommandArguments(Protocol.Command.SUNSUBSCRIBE).add(ch));
                    sent.remove(ch);
                    confirmed.remove(ch);
                }
            }
            sendSubscriptions(c);
            long now = waits.now();
            if (pingedAt > pongAt && now - pingedAt > NodeWaits.PING_MS + client.connector().socketTimeoutMillis()) {
                log.debug("the subscription on {} did not answer a PING; subscribing again", address);
                closeConnection();
            } else if (pongAt >= pingedAt && now - pingedAt >= NodeWaits.PING_MS) {
                pingedAt = now;
                c.send(new CommandArguments(Protocol.Command.PING));
            }
        } catch (RuntimeException e) {
            log.debug("subscribing on {} failed: {}", address, e.toString());
            closeConnection();
        }
    }

    /** One SSUBSCRIBE per channel: channels of different slots in one command are refused. */
    private void sendSubscriptions(SubscriberConnection c) {
        for (String ch : wanted) {
            if (sent.add(ch)) {
                c.send(new CommandArguments(Protocol.Command.SSUBSCRIBE).add(ch));
            }
        }
    }

    private void closeConnection() {
        SubscriberConnection c = connection;
        connection = null;
        if (c != null) {
            try {
                c.close();
            } catch (RuntimeException e) {
                log.debug("closing the subscription on {} failed: {}", address, e.toString());
            }
        }
    }

    @Override
    public void run() {
        SubscriberConnection c = null;
        try {
            c = client.connector().newSubscriberConnection(address);
            probe.waitConnection(1);
            c.setTimeoutInfinite();
            synchronized (this) {
                if (waits.closed() || wanted.isEmpty()) {
                    return;
                }
                connection = c;
                pingedAt = 0;
                pongAt = 0;
                sendSubscriptions(c);
            }
            while (!waits.closed()) {
                Object reply;
                try {
                    reply = c.next();
                } catch (JedisDataException e) {
                    if (!refused(e)) {
                        return;
                    }
                    continue;
                }
                handle(reply);
            }
        } catch (RuntimeException e) {
            boolean dropped;
            synchronized (this) {
                dropped = connection != c || c == null && wanted.isEmpty();
            }
            if (!waits.closed() && !dropped) {
                log.debug("the subscription on {} failed: {}", address, e.toString());
                synchronized (this) {
                    failedAt = waits.now();
                }
                // The node may be gone, its slots served elsewhere now.
                Topology.refresh(client.redis());
                waits.readAll();
            }
        } finally {
            synchronized (this) {
                if (connection == c) {
                    connection = null;
                }
                running = false;
                sent.clear();
                confirmed.clear();
            }
            if (c != null) {
                probe.waitConnection(-1);
                try {
                    c.close();
                } catch (RuntimeException e) {
                    log.debug("closing the subscription on {} failed: {}", address, e.toString());
                }
            }
        }
    }

    private void handle(Object reply) {
        if (!(reply instanceof List<?> r) || r.isEmpty()) {
            return;
        }
        String kind = StreamEntries.text(r.get(0));
        String channel = r.size() > 1 ? StreamEntries.text(r.get(1)) : "";
        switch (kind) {
            case "smessage" -> waits.announce(NodeWaits.streamOf(channel));
            case "ssubscribe" -> {
                synchronized (this) {
                    confirmed.add(channel);
                }
                // An entry written before the subscription was in place had no one to wake.
                waits.announce(NodeWaits.streamOf(channel));
            }
            case "sunsubscribe" -> {
                boolean stillWanted;
                synchronized (this) {
                    confirmed.remove(channel);
                    stillWanted = wanted.contains(channel);
                    if (stillWanted) {
                        sent.remove(channel);
                    }
                }
                if (stillWanted) {
                    // The node gave the slot up (a failover, a migration): subscribe where it went.
                    Topology.refresh(client.redis());
                    waits.announce(NodeWaits.streamOf(channel));
                }
            }
            case "pong" -> pongAt = waits.now();
            default -> log.debug("unexpected reply on the subscription on {}: {}", address, kind);
        }
    }

    /** @return true to go on reading: the refusal named a slot served elsewhere now */
    private boolean refused(JedisDataException e) {
        if (Topology.notRunHere(e)) {
            // A slot moved: subscribe again to what was not confirmed, after the slot map is read again.
            Topology.refresh(client.redis());
            synchronized (this) {
                sent.retainAll(confirmed);
            }
            waits.readAll();
            return true;
        }
        if (StreamClient.lacksShardedPubSub(e)) {
            waits.refusedSubscribe(address, e.getMessage());
            return false;
        }
        log.debug("the subscription on {} was refused: {}", address, e.toString());
        waits.readAll();
        return true;
    }
}
