package dev.workflowworker.redis.internal.client;

import redis.clients.jedis.CommandArguments;
import redis.clients.jedis.Connection;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.JedisClientConfig;

/**
 * A connection in subscribed mode, read by one thread while others send subscriptions and PINGs
 * on it: sends are whole commands under this object's monitor, and the reading thread is the
 * only one that reads. Jedis's own sharded subscriber sends all of a subscription's channels in
 * one command, which a cluster refuses when they lie in different slots, and cannot PING.
 */
public final class SubscriberConnection extends Connection {

    SubscriberConnection(HostAndPort node, JedisClientConfig config) {
        super(node, config);
    }

    /** Sends one command and flushes it; its reply comes to the reading thread. */
    public synchronized void send(CommandArguments args) {
        sendCommand(args);
        flush();
    }

    /** {@return the next reply or message}, blocking; for the reading thread only */
    public Object next() {
        return getUnflushedObject();
    }
}
