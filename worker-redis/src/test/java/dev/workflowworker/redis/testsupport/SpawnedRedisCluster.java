package dev.workflowworker.redis.testsupport;

import dev.workflowworker.redis.RedisOptions;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.RedisClusterClient;
import redis.clients.jedis.util.JedisClusterCRC16;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * A real Redis Cluster of spawned {@code redis-server --cluster-enabled yes} processes on free
 * local ports, joined with {@code redis-cli --cluster create}: masters and replicas, each
 * restartable, killable (SIGKILL, so its replica is promoted) and freezable (SIGSTOP) on its own,
 * and slots movable one by one while clients run. Close it in {@code @AfterAll}.
 */
public final class SpawnedRedisCluster implements AutoCloseable {

    /** How long a silent node counts as alive; short so that a failover takes seconds in tests. */
    public static final int NODE_TIMEOUT_MS = 1500;

    private final List<SpawnedRedisServer> nodes;

    private SpawnedRedisCluster(List<SpawnedRedisServer> nodes) {
        this.nodes = nodes;
    }

    /**
     * Spawns and joins a cluster; the slots are spread evenly over the masters.
     *
     * @param masters           how many masters (at least 3, as redis-cli requires)
     * @param replicasPerMaster replicas of each master
     * @param extraArgs         further configuration of every node, e.g. {@code "--appendonly", "yes"}
     * @return the cluster, every slot served, every node agreeing
     * @throws IllegalStateException if redis-server or redis-cli is missing or the cluster does not form
     */
    public static SpawnedRedisCluster start(int masters, int replicasPerMaster, String... extraArgs) {
        if (masters < 3) {
            throw new IllegalArgumentException("redis-cli creates clusters of at least 3 masters: " + masters);
        }
        String cli = SpawnedRedisServer.findExecutable() == null ? null
                : Path.of(SpawnedRedisServer.findExecutable()).resolveSibling("redis-cli").toString();
        if (cli == null || !Files.isExecutable(Path.of(cli))) {
            throw new IllegalStateException("redis-server and redis-cli are needed on PATH for a local Redis Cluster "
                    + "(e.g. apt-get install redis-server), or run the cluster tests against REDIS_CLUSTER_URL");
        }
        List<SpawnedRedisServer> nodes = new ArrayList<>();
        try {
            int total = masters * (1 + replicasPerMaster);
            for (int i = 0; i < total; i++) {
                List<String> args = new ArrayList<>(List.of("--cluster-enabled", "yes",
                        "--cluster-config-file", "nodes.conf",
                        "--cluster-node-timeout", Integer.toString(NODE_TIMEOUT_MS),
                        // A replica taking over must not wait for a long-silent master's data.
                        "--cluster-replica-validity-factor", "0",
                        "--cluster-require-full-coverage", "yes"));
                args.addAll(List.of(extraArgs));
                nodes.add(SpawnedRedisServer.builder().args(args.toArray(String[]::new)).start());
            }
            List<String> command = new ArrayList<>(List.of(cli, "--cluster", "create"));
            for (SpawnedRedisServer n : nodes) {
                command.add("127.0.0.1:" + n.port());
            }
            command.addAll(List.of("--cluster-replicas", Integer.toString(replicasPerMaster), "--cluster-yes"));
            Path log = Files.createTempFile("workflow-worker-cluster-create", ".log");
            Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                p.destroyForcibly();
                throw new IllegalStateException("redis-cli --cluster create failed:\n" + Files.readString(log));
            }
            Files.deleteIfExists(log);
            SpawnedRedisCluster cluster = new SpawnedRedisCluster(nodes);
            cluster.awaitHealthy(Duration.ofSeconds(30));
            return cluster;
        } catch (IOException e) {
            nodes.forEach(SpawnedRedisServer::close);
            throw new UncheckedIOException("cannot start a Redis Cluster", e);
        } catch (InterruptedException e) {
            nodes.forEach(SpawnedRedisServer::close);
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } catch (RuntimeException e) {
            nodes.forEach(SpawnedRedisServer::close);
            throw e;
        }
    }

    /** @return {@code redis-cluster://} with every node as a seed */
    public String uri() {
        return "redis-cluster://" + nodes.stream().map(n -> "127.0.0.1:" + n.port()).collect(Collectors.joining(","));
    }

    /** @return options for this cluster with timeouts suited to tests (a failover must fit inside them) */
    public RedisOptions.Builder options() {
        return RedisOptions.builder().uri(uri())
                .connectTimeout(Duration.ofMillis(500))
                .socketTimeout(Duration.ofSeconds(2));
    }

    /** @return a cluster client for inspecting and preparing state; close it after use */
    public RedisClusterClient client() {
        Set<HostAndPort> seeds = new LinkedHashSet<>();
        for (SpawnedRedisServer n : nodes) {
            seeds.add(new HostAndPort("127.0.0.1", n.port()));
        }
        return RedisClusterClient.builder().nodes(seeds)
                .clientConfig(DefaultJedisClientConfig.builder().resp2().autoNegotiateProtocol(false)
                        .timeoutMillis(2000).build())
                .maxAttempts(10).maxTotalRetriesDuration(Duration.ofSeconds(15))
                .build();
    }

    /** @return every node, masters and replicas, in the order they were spawned */
    public List<SpawnedRedisServer> nodes() {
        return List.copyOf(nodes);
    }

    /** @return the running nodes that serve slots now, each once */
    public List<SpawnedRedisServer> masters() {
        Map<Integer, SpawnedRedisServer> byPort = byPort();
        List<SpawnedRedisServer> out = new ArrayList<>();
        for (int port : slotOwners().values().stream().distinct().sorted().toList()) {
            out.add(byPort.get(port));
        }
        return out;
    }

    /** @return the running node serving {@code key}'s slot now */
    public SpawnedRedisServer masterOf(String key) {
        return masterOfSlot(JedisClusterCRC16.getSlot(key));
    }

    /** @return the running node serving {@code slot} now */
    public SpawnedRedisServer masterOfSlot(int slot) {
        Integer port = slotOwners().get(slot);
        if (port == null) {
            throw new IllegalStateException("no node serves slot " + slot);
        }
        return byPort().get(port);
    }

    /** @return slot to port of the node serving it, as a running node sees it */
    private Map<Integer, Integer> slotOwners() {
        return owners(askAnyRunning(j -> j.clusterSlots()));
    }

    /** CLUSTER SLOTS as slot to the port of the master serving it. */
    private static Map<Integer, Integer> owners(List<Object> clusterSlots) {
        Map<Integer, Integer> owners = new HashMap<>();
        for (Object range : clusterSlots) {
            List<?> r = (List<?>) range;
            int port = ((Long) ((List<?>) r.get(2)).get(1)).intValue();
            for (long s = (Long) r.get(0); s <= (Long) r.get(1); s++) {
                owners.put((int) s, port);
            }
        }
        return owners;
    }

    private <T> T askAnyRunning(java.util.function.Function<Jedis, T> question) {
        RuntimeException last = null;
        for (SpawnedRedisServer n : nodes) {
            try (Jedis j = n.jedis()) {
                return question.apply(j);
            } catch (RuntimeException e) {
                last = e;
            }
        }
        throw new IllegalStateException("no node of the cluster answers", last);
    }

    private Map<Integer, SpawnedRedisServer> byPort() {
        Map<Integer, SpawnedRedisServer> m = new HashMap<>();
        for (SpawnedRedisServer n : nodes) {
            m.put(n.port(), n);
        }
        return m;
    }

    /**
     * Waits until every running node reports {@code cluster_state:ok} and all agree on who serves
     * every slot.
     */
    public void awaitHealthy(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        String last = "";
        while (System.nanoTime() - deadline < 0) {
            Set<String> views = new LinkedHashSet<>();
            boolean ok = true;
            for (SpawnedRedisServer n : nodes) {
                if (!n.isRunning()) {
                    continue;
                }
                try (Jedis j = n.jedis()) {
                    String info = j.clusterInfo();
                    if (!info.contains("cluster_state:ok")) {
                        ok = false;
                        last = n + ": " + info.lines().findFirst().orElse("");
                        break;
                    }
                    // Replicas in sync, too: a WAIT for one counts only replicas past their sync.
                    String replication = j.info("replication");
                    if (replication.contains("role:slave") && !replication.contains("master_link_status:up")) {
                        ok = false;
                        last = n + ": replica not linked to its master yet";
                        break;
                    }
                    if (replication.lines().anyMatch(l -> l.startsWith("slave") && l.contains("state=")
                            && !l.contains("state=online"))) {
                        ok = false;
                        last = n + ": a replica is still syncing";
                        break;
                    }
                    views.add(j.clusterSlots().stream().map(r -> {
                        List<?> x = (List<?>) r;
                        return x.get(0) + "-" + x.get(1) + "@" + ((List<?>) x.get(2)).get(1);
                    }).sorted().collect(Collectors.joining(",")));
                } catch (RuntimeException e) {
                    ok = false;
                    last = n + ": " + e;
                    break;
                }
            }
            if (ok && views.size() == 1) {
                return;
            }
            if (ok) {
                last = "nodes disagree on the slot map: " + views;
            }
            sleep(50);
        }
        throw new IllegalStateException("the cluster did not become healthy within " + timeout + ": " + last);
    }

    /**
     * Kills a master with SIGKILL and waits until one of its replicas serves its slots.
     *
     * @return the node that took its slots over
     */
    public SpawnedRedisServer killMasterAndAwaitFailover(SpawnedRedisServer master, Duration timeout) {
        int slot = aSlotOf(master);
        long deadline = System.nanoTime() + timeout.toNanos();
        master.kill();
        SpawnedRedisServer next = awaitNewMasterOfSlot(slot, master, timeout);
        awaitHealthy(Duration.ofNanos(Math.max(1, deadline - System.nanoTime())));
        return next;
    }

    private int aSlotOf(SpawnedRedisServer master) {
        return slotOwners().entrySet().stream().filter(e -> e.getValue() == master.port()).findFirst()
                .orElseThrow(() -> new IllegalArgumentException(master + " serves no slot")).getKey();
    }

    /** @return the first replica of a master, from its INFO replication */
    public SpawnedRedisServer replicaOf(SpawnedRedisServer master) {
        try (Jedis j = master.jedis()) {
            for (String line : j.info("replication").split("\\r?\\n")) {
                if (line.startsWith("slave0:")) {
                    for (String part : line.substring("slave0:".length()).split(",")) {
                        if (part.startsWith("port=")) {
                            return byPort().get(Integer.parseInt(part.substring(5)));
                        }
                    }
                }
            }
        }
        throw new IllegalStateException(master + " has no replica");
    }

    /**
     * Waits until a node other than {@code old} serves {@code slot}.
     *
     * @return that node
     */
    public SpawnedRedisServer awaitNewMasterOfSlot(int slot, SpawnedRedisServer old, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() - deadline < 0) {
            try {
                Integer owner = slotOwnersExcept(old).get(slot);
                if (owner != null && owner != old.port()) {
                    return byPort().get(owner);
                }
            } catch (RuntimeException e) {
                // Mid-election a node may not answer CLUSTER SLOTS yet.
            }
            sleep(50);
        }
        throw new IllegalStateException("no node took slot " + slot + " over from " + old + " within " + timeout);
    }

    /**
     * Freezes a master (SIGSTOP) until the cluster has replaced it with its replica, then thaws
     * it: it wakes still believing it is a master, with clients' connections open, and learns it
     * was replaced.
     *
     * @return the node that took its slots over
     */
    public SpawnedRedisServer freezeMasterUntilReplaced(SpawnedRedisServer master, Duration timeout) {
        int slot = aSlotOf(master);
        master.freeze();
        try {
            return awaitNewMasterOfSlot(slot, master, timeout);
        } finally {
            master.thaw();
        }
    }

    private Map<Integer, Integer> slotOwnersExcept(SpawnedRedisServer skip) {
        for (SpawnedRedisServer n : nodes) {
            if (n == skip) {
                continue;
            }
            try (Jedis j = n.jedis()) {
                return owners(j.clusterSlots());
            } catch (RuntimeException e) {
                // try the next node
            }
        }
        throw new IllegalStateException("no node of the cluster answers");
    }

    /**
     * Moves one slot with its keys to another master, the way {@code redis-cli --cluster reshard}
     * does: IMPORTING/MIGRATING, MIGRATE of its keys in batches, then SETSLOT NODE everywhere.
     * Clients see ASK and then MOVED meanwhile.
     */
    public void moveSlot(int slot, SpawnedRedisServer to) {
        SpawnedRedisServer from = masterOfSlot(slot);
        if (from == to) {
            return;
        }
        try (Jedis src = from.jedis(); Jedis dst = to.jedis()) {
            String fromId = src.clusterMyId();
            String toId = dst.clusterMyId();
            dst.clusterSetSlotImporting(slot, fromId);
            src.clusterSetSlotMigrating(slot, toId);
            while (true) {
                List<String> keys = src.clusterGetKeysInSlot(slot, 100);
                if (keys.isEmpty()) {
                    break;
                }
                src.migrate("127.0.0.1", to.port(), 5000,
                        new redis.clients.jedis.params.MigrateParams().replace(), keys.toArray(String[]::new));
            }
            dst.clusterSetSlotNode(slot, toId);
            src.clusterSetSlotNode(slot, toId);
            for (SpawnedRedisServer n : nodes) {
                if (n != from && n != to && n.isRunning()) {
                    try (Jedis j = n.jedis()) {
                        if (j.clusterInfo().contains("cluster_state")) {
                            try {
                                j.clusterSetSlotNode(slot, toId);
                            } catch (RuntimeException e) {
                                // A replica refuses SETSLOT; it learns the move from its master.
                            }
                        }
                    }
                }
            }
        }
    }

    /** Removes every key from every master, so each test starts from an empty cluster. */
    public void flush() {
        for (SpawnedRedisServer m : masters()) {
            try (Jedis j = m.jedis()) {
                j.flushAll();
                j.scriptFlush();
            }
        }
    }

    @Override
    public void close() {
        for (SpawnedRedisServer n : nodes) {
            n.close();
        }
    }

    private static void sleep(long ms) {
        try {
            TimeUnit.MILLISECONDS.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    @Override
    public String toString() {
        return "Redis Cluster " + uri();
    }
}
