package dev.workflowworker.redis.internal.client;

import redis.clients.jedis.AbstractPipeline;
import redis.clients.jedis.BuilderFactory;
import redis.clients.jedis.CommandArguments;
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
