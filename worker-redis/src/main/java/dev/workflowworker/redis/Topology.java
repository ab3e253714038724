package dev.workflowworker.redis;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.AbstractPipeline;
import redis.clients.jedis.ConnectionPool;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.RedisClusterClient;
import redis.clients.jedis.UnifiedJedis;
import redis.clients.jedis.exceptions.JedisClusterOperationException;
import redis.clients.jedis.exceptions.JedisDataException;
import redis.clients.jedis.exceptions.JedisRedirectionException;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What differs between one Redis server and a Redis Cluster, in one place: pipelines (one per
 * node on a cluster, sent and read in parallel), dropping stale connections, and recognising a
 * reply that says "not here, not now" (a redirect, a slot in migration, a cluster without quorum),
 * which means the command did nothing and may be sent again once the slot map is fresh.
 */
final class Topology {

    private static final Logger log = LoggerFactory.getLogger(Topology.class);

    /**
     * Reads the replies of a multi-node pipeline's nodes in parallel. Shared by every client of the
     * process, so that a pipeline does not start threads of its own each time it is synced.
     */
    private static final ExecutorService PIPELINE_SYNC = new ThreadPoolExecutor(0, 64, 30, TimeUnit.SECONDS,
            new SynchronousQueue<>(), new ThreadFactory(), new ThreadPoolExecutor.CallerRunsPolicy());

    private Topology() {
    }

    static AbstractPipeline pipeline(UnifiedJedis redis) {
        if (redis instanceof RedisClusterClient cluster) {
            return cluster.pipelined(PIPELINE_SYNC);
        }
        return redis.pipelined();
    }

    static boolean isCluster(UnifiedJedis redis) {
        return redis instanceof RedisClusterClient;
    }

    /** Drops idle connections, likely stale after a restart or failover, and re-reads the slot map. */
    static void clearIdle(UnifiedJedis redis) {
        try {
            if (redis instanceof RedisClient single) {
                single.getPool().clear();
            } else if (redis instanceof RedisClusterClient cluster) {
                for (ConnectionPool pool : cluster.getClusterNodes().values()) {
                    pool.clear();
                }
                cluster.refreshClusterTopology();
            }
        } catch (RuntimeException e) {
            log.debug("Clearing idle Redis connections failed: {}", e.toString());
        }
    }

    /** Re-reads the slot map after a reply showed it stale; harmless on one server. */
    static void refresh(UnifiedJedis redis) {
        if (redis instanceof RedisClusterClient cluster) {
            try {
                cluster.refreshClusterTopology();
            } catch (RuntimeException e) {
                log.debug("Refreshing the cluster's slot map failed: {}", e.toString());
            }
        }
    }

    /**
     * @return true if the error says the command was not run because of where or when it was
     *     sent: MOVED, ASK, TRYAGAIN (keys of the slot half migrated), CLUSTERDOWN
     */
    static boolean notRunHere(Throwable e) {
        if (e instanceof JedisRedirectionException) {
            return true;
        }
        if (e instanceof JedisDataException && e.getMessage() != null) {
            String m = e.getMessage();
            return m.startsWith("TRYAGAIN") || m.startsWith("CLUSTERDOWN") || m.startsWith("MOVED")
                    || m.startsWith("ASK");
        }
        return false;
    }

    /** @return true if a cluster client gave up: no node answered for the slot within its attempts */
    static boolean clusterUnreachable(Throwable e) {
        return e instanceof JedisClusterOperationException;
    }

    private static final class ThreadFactory implements java.util.concurrent.ThreadFactory {
        private final AtomicInteger n = new AtomicInteger();

        @Override
        public Thread newThread(Runnable r) {
            Thread t = new Thread(r, "workflow-worker-pipeline-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        }
    }
}
