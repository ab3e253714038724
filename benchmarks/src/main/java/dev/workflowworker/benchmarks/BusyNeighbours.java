package dev.workflowworker.benchmarks;

import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.Pipeline;
import redis.clients.jedis.exceptions.JedisDataException;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;

/**
 * Keeps other Redis servers on the measured server's CPU busy at a set rate of CPU, the way the two
 * other masters of a 3-master cluster are when they share that core: small script calls every
 * millisecond (a stream append and a range read, each wake a socket read), their number steered
 * every half second towards the target by the servers' own {@code used_cpu_*}. The control for
 * "is a call dearer because three servers share the core": the one master, doing all the work,
 * beside neighbours as busy as the three masters' other two.
 */
final class BusyNeighbours implements AutoCloseable {

    private static final String SCRIPT = "redis.call('XADD', KEYS[1], 'MAXLEN', '~', '1000', '*', 'f', ARGV[1]) "
            + "return #redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 16)";
    private static final long TICK_NANOS = TimeUnit.MILLISECONDS.toNanos(1);
    private static final long STEER_NANOS = TimeUnit.MILLISECONDS.toNanos(500);

    private final AtomicBoolean stop = new AtomicBoolean();
    private final List<Thread> threads = new ArrayList<>();

    private BusyNeighbours() {
    }

    /** Starts one load thread per server, each steering its server towards {@code microsPerSecond} of CPU. */
    static BusyNeighbours start(List<HostAndPort> servers, double microsPerSecond) {
        BusyNeighbours b = new BusyNeighbours();
        for (HostAndPort s : servers) {
            Thread t = new Thread(() -> b.load(s, microsPerSecond), "busy-neighbour-" + s.getPort());
            t.setDaemon(true);
            b.threads.add(t);
            t.start();
        }
        return b;
    }

    private void load(HostAndPort server, double target) {
        try (Jedis j = new Jedis(server)) {
            String key = keyServedBy(j);
            String sha = j.scriptLoad(SCRIPT);
            String payload = "x".repeat(200);
            // Calls a second, sent as a tick's share every millisecond (none in some ticks below 1,000/s).
            double perSecond = 2000;
            double owed = 0;
            long next = System.nanoTime();
            long steerAt = next + STEER_NANOS;
            double cpu0 = ClusterScenario.cpuSeconds(server);
            long cpuAt = System.nanoTime();
            while (!stop.get()) {
                owed += perSecond / 1000;
                int calls = (int) owed;
                if (calls > 0) {
                    owed -= calls;
                    Pipeline p = j.pipelined();
                    for (int k = 0; k < calls; k++) {
                        p.evalsha(sha, 1, key, payload);
                    }
                    p.sync();
                }
                next += TICK_NANOS;
                long now = System.nanoTime();
                if (now >= steerAt) {
                    double cpu = ClusterScenario.cpuSeconds(server);
                    double rate = (cpu - cpu0) * 1e6 / ((now - cpuAt) / 1e9);
                    // Halfway towards the target each time: the server's CPU counter moves in steps.
                    perSecond = Math.max(10, Math.min(2_000_000,
                            perSecond * (1 + 0.5 * (target / Math.max(rate, 1) - 1))));
                    cpu0 = cpu;
                    cpuAt = now;
                    steerAt = now + STEER_NANOS;
                }
                if (next > now) {
                    LockSupport.parkNanos(next - now);
                } else {
                    next = now; // behind: no burst to catch up
                }
            }
        }
    }

    /** {@return a key of a slot this server serves}: any key on a plain server, the first not MOVED on a cluster node */
    private static String keyServedBy(Jedis j) {
        for (int k = 0; ; k++) {
            String key = "busy:{" + k + "}";
            try {
                j.exists(key);
                return key;
            } catch (JedisDataException moved) {
                // another node's slot
            }
        }
    }

    @Override
    public void close() throws InterruptedException {
        stop.set(true);
        for (Thread t : threads) {
            t.join(5000);
        }
    }
}
