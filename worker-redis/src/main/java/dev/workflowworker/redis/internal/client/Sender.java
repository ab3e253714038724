package dev.workflowworker.redis.internal.client;

import redis.clients.jedis.AbstractPipeline;
import redis.clients.jedis.BuilderFactory;
import redis.clients.jedis.CommandArguments;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.RedisClusterClient;
import redis.clients.jedis.Response;
import redis.clients.jedis.UnifiedJedis;

/**
 * A pipeline of {@link Topology#sendEach}: one server's, or a cluster's whose nodes work at once
 * ({@link NodePipelines}).
 */
interface Sender extends AutoCloseable {

    /** Queues a command on the connection to the node of {@code key}. */
    Response<Object> send(String key, CommandArguments args);

    /**
     * Queues {@code ASKING} and then {@code args} on the connection to cluster node {@code node}, the
     * importing node an ASK redirect named (see {@link AskRedirects}); the reply is the command's.
     */
    default Response<Object> sendAsking(HostAndPort node, CommandArguments args) {
        throw new IllegalStateException("ASK redirect from a single server");
    }

    /** Queues {@code args} on the connection to cluster node {@code node}: a WAIT behind an asked call. */
    default Response<Object> sendTo(HostAndPort node, CommandArguments args) {
        throw new IllegalStateException("a node named on a single server");
    }

    void sync();

    /** {@return the failed node that owed {@code reply}; null if none did (one server: never)} */
    default Topology.NodeFailure failureOf(Response<?> reply) {
        return null;
    }

    @Override
    void close();

    /** @param nodes closes a timed-out node's connection off the caller's thread; null to close it there */
    static Sender of(UnifiedJedis redis, NodeHealth nodes) {
        if (redis instanceof RedisClusterClient cluster) {
            NodePipelines p = new NodePipelines(cluster, nodes);
            return new Sender() {
                @Override
                public Response<Object> send(String key, CommandArguments args) {
                    return p.send(key, args, BuilderFactory.RAW_OBJECT);
                }

                @Override
                public Response<Object> sendAsking(HostAndPort node, CommandArguments args) {
                    return p.sendTo(node, args, BuilderFactory.RAW_OBJECT, true);
                }

                @Override
                public Response<Object> sendTo(HostAndPort node, CommandArguments args) {
                    return p.sendTo(node, args, BuilderFactory.RAW_OBJECT, false);
                }

                @Override
                public void sync() {
                    p.sync();
                }

                @Override
                public Topology.NodeFailure failureOf(Response<?> reply) {
                    return p.failureOf(reply);
                }

                @Override
                public void close() {
                    p.close();
                }
            };
        }
        AbstractPipeline p = redis.pipelined();
        return new Sender() {
            @Override
            public Response<Object> send(String key, CommandArguments args) {
                return p.sendCommand(args);
            }

            @Override
            public void sync() {
                p.sync();
            }

            @Override
            public void close() {
                p.close();
            }
        };
    }
}
