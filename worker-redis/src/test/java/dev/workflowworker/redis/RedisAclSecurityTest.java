package dev.workflowworker.redis;

import dev.workflowworker.core.testing.Await;
import dev.workflowworker.redis.testsupport.SpawnedRedisServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Security on a real server with ACL users: a {@code redis-server} spawned by this class with an
 * ACL file, users with passwords, and one user limited to the library's keys and commands.
 */
class RedisAclSecurityTest {

    /**
     * The commands the library needs, as ACL rules: what it sends itself and what its Lua scripts
     * call (scripts run with the caller's permissions). Every one is used by {@link SecureFlow};
     * {@link #restrictedUserRunsTheWholeFlowAndUsesExactlyItsCommands} checks both directions.
     */
    static final List<String> NEEDED_COMMANDS = List.of(
            // streams
            "xadd", "xreadgroup", "xack", "xautoclaim", "xclaim", "xpending", "xrange", "xdel", "xlen", "xtrim",
            "xgroup|create", "xgroup|delconsumer", "xinfo|groups", "xinfo|consumers",
            // scripts
            "evalsha", "script|load",
            // processed markers, locks, fencing counter
            "set", "get", "mget", "del", "exists", "pexpire", "incr", "incrby",
            // retry set
            "zadd", "zrange", "zrangebyscore", "zrem",
            // connection setup: the client name (Jedis ignores a refusal, but it is logged by Redis)
            "client|setname");

    /**
     * What the shared stream's delayed events and schedules add (docs/operations.md, "Redis
     * permissions"): every consuming process runs their loop, so a worker needs them even when it
     * publishes no delayed event; which of them a flow uses depends on what is stored and on the
     * loop's timing, so these are checked as "never refused", not as "each used".
     */
    static final List<String> TIME_COMMANDS = List.of("time", "subscribe", "unsubscribe", "ping", "publish", "zscore",
            "zcard", "zremrangebyrank", "hset", "hget", "hgetall", "hdel", "hmget");

    private static final String ADMIN_PASSWORD = secret("admin");
    private static final String WORKER_PASSWORD = secret("worker");
    private static final String RESTRICTED_PASSWORD = secret("restricted");

    private static SpawnedRedisServer server;

    @BeforeAll
    static void startServer() throws IOException {
        Path acl = Files.createTempFile("workflow-worker-acl-", ".acl");
        List<String> users = new ArrayList<>();
        users.add("user default on >" + ADMIN_PASSWORD + " ~* &* +@all");
        users.add("user worker on >" + WORKER_PASSWORD + " ~* &* +@all");
        List<String> all = new ArrayList<>(NEEDED_COMMANDS);
        all.addAll(TIME_COMMANDS);
        users.add(restrictedUser("restricted", RESTRICTED_PASSWORD, all));
        for (String missing : List.of("xreadgroup", "xgroup|create", "evalsha")) {
            List<String> fewer = new ArrayList<>(all);
            fewer.remove(missing);
            users.add(restrictedUser("no-" + missing.replace('|', '-'), RESTRICTED_PASSWORD, fewer));
        }
        Files.write(acl, users);
        try {
            server = SpawnedRedisServer.builder()
                    .args("--aclfile", acl.toString())
                    .probe(DefaultJedisClientConfig.builder().user("default").password(ADMIN_PASSWORD))
                    .start();
        } finally {
            // The server has read it; a copy in its directory is not needed.
            Files.deleteIfExists(acl);
        }
    }

    @AfterAll
    static void stopServer() {
        if (server != null) {
            server.close();
        }
    }

    @BeforeEach
    void emptyServer() {
        server.flush();
        try (Jedis admin = admin()) {
            admin.aclLogReset();
            admin.configResetStat();
        }
    }

    private static String restrictedUser(String name, String password, List<String> commands) {
        return "user " + name + " on >" + password + " ~workflow:* resetchannels &workflow:events:global:time-wake -@all "
                + commands.stream().map(c -> "+" + c).collect(Collectors.joining(" "));
    }

    private static String secret(String who) {
        return who + "-Pw-" + UUID.randomUUID().toString().replace("-", "");
    }

    private static Jedis admin() {
        return new Jedis(new HostAndPort("127.0.0.1", server.port()), DefaultJedisClientConfig.builder()
                .resp2().autoNegotiateProtocol(false).user("default").password(ADMIN_PASSWORD).timeoutMillis(2000)
                .build());
    }

    /** The shared stream: {@link #NEEDED_COMMANDS} are its commands (docs/operations.md lists the partitioned mode's extra ones). */
    private static RedisOptions options(String uri) {
        return RedisOptions.builder().uri(uri).partitions(0)
                .connectTimeout(Duration.ofMillis(500))
                .socketTimeout(Duration.ofSeconds(2))
                .build();
    }

    private static String uri(String user, String password) {
        return "redis://" + user + ":" + password + "@127.0.0.1:" + server.port();
    }

    @Test
    void aclUserWithPasswordInTheUriRunsTheFullFlow() throws Exception {
        RedisOptions options = options(uri("worker", WORKER_PASSWORD));
        assertEquals("worker", options.user());
        assertFalse(options.toString().contains(WORKER_PASSWORD), options.toString());

        try (OutputCapture log = new OutputCapture()) {
            SecureFlow.run(options);
            assertNoSecretIn(log.text(), "the log of the flow", WORKER_PASSWORD);
        }
        try (Jedis admin = admin()) {
            assertEquals(List.of(), deniedCommands(admin));
        }
    }

    @Test
    void restrictedUserRunsTheWholeFlowAndUsesExactlyItsCommands() throws Exception {
        SecureFlow.run(options(uri("restricted", RESTRICTED_PASSWORD)));

        try (Jedis admin = admin()) {
            assertEquals(List.of(), deniedCommands(admin), "commands refused to the restricted user");
            Set<String> used = usedCommands(admin);
            // HELLO (protocol and authentication handshake) is allowed to every client by Redis.
            used.remove("hello");
            Set<String> time = new TreeSet<>(used);
            time.removeAll(NEEDED_COMMANDS);
            used.removeAll(TIME_COMMANDS);
            assertEquals(new TreeSet<>(NEEDED_COMMANDS), used,
                    "the ACL list must be exactly what the flow uses: no command missing, none granted in vain");
            assertTrue(TIME_COMMANDS.containsAll(time), "the time loop used commands beyond its list: " + time);
        }
    }

    @Test
    void wrongPasswordFailsAtStartWithAClearErrorThatDoesNotRevealIt() {
        String wrong = secret("wrong");
        for (String uri : List.of(uri("worker", wrong), uri("", wrong),
                "redis://" + wrong + "@127.0.0.1:" + server.port())) {
            RedisOptions options = options(uri);
            try (OutputCapture log = new OutputCapture()) {
                IllegalStateException e = assertTimeoutPreemptively(Duration.ofSeconds(10),
                        () -> assertThrows(IllegalStateException.class,
                                () -> RedisEventTransport.create(options).close()));
                assertTrue(e.getMessage().startsWith("cannot start the Redis transport: Redis at "
                        + options.endpoint() + " refused it"), e.getMessage());
                assertTrue(e.getMessage().contains("WRONGPASS"), e.getMessage());
                assertNoSecretIn(e, wrong);
                assertNoSecretIn(log.text(), "the log", wrong);
            }
        }
    }

    @Test
    void passwordChangedUnderARunningServiceIsReportedWithoutRevealingEitherPassword() throws Exception {
        String before = secret("before");
        String after = secret("after");
        try (Jedis admin = admin()) {
            admin.aclSetUser("rotating", "reset", "on", ">" + before, "~*", "&*", "+@all");
        }
        try (OutputCapture log = new OutputCapture()) {
            RedisEventTransport transport = RedisEventTransport.create(options(uri("rotating", before)));
            dev.workflowworker.core.WorkerService service = dev.workflowworker.core.WorkerService.builder()
                    .transport(transport)
                    .runtime(dev.workflowworker.core.ActionRuntime.builder().on("WORK", ctx -> { }).build())
                    .workerCount(1)
                    .pollInterval(Duration.ofMillis(100))
                    .healthCheckInterval(Duration.ofMillis(200))
                    .build();
            try {
                service.start();
                try (Jedis admin = admin()) {
                    admin.aclSetUser("rotating", "resetpass", ">" + after);
                    admin.clientKill(new redis.clients.jedis.params.ClientKillParams()
                            .user("rotating"));
                }
                Await.until(Duration.ofSeconds(15),
                        () -> service.health().workers().stream().anyMatch(w -> w.reason() != null
                                && w.reason().contains("WRONGPASS")),
                        "the refused reconnection to show in the health");
                assertNoSecretIn(service.health().toString(), "the health", before, after);
                assertNoSecretIn(service.health().toJson(), "the health JSON", before, after);
            } finally {
                service.close();
            }
            assertTrue(log.text().contains("WRONGPASS"), "the refusal is logged");
            assertNoSecretIn(log.text(), "the log", before, after);
        }
    }

    @Test
    void userLackingTheGroupCommandIsRefusedAtStartNamingTheCommand() {
        RedisOptions options = options(uri("no-xgroup-create", RESTRICTED_PASSWORD));
        IllegalStateException e = assertTimeoutPreemptively(Duration.ofSeconds(10),
                () -> assertThrows(IllegalStateException.class, () -> RedisEventTransport.create(options).close()));
        assertTrue(e.getMessage().contains("NOPERM") && e.getMessage().contains("xgroup|create"), e.getMessage());
        assertTrue(e.getMessage().contains(options.endpoint()), e.getMessage());
        assertNoSecretIn(e, RESTRICTED_PASSWORD);
    }

    @Test
    void userLackingTheReadCommandGetsAClearErrorNotAHang() {
        assertServiceReportsMissingCommand("no-xreadgroup", "xreadgroup");
    }

    @Test
    void userLackingTheScriptCommandGetsAClearErrorNotAHang() {
        assertServiceReportsMissingCommand("no-evalsha", "evalsha");
    }

    /** Starts a service as a user lacking one command, publishes, and waits for the refusal in its health. */
    private static void assertServiceReportsMissingCommand(String user, String command) {
        RedisEventTransport transport = RedisEventTransport.create(options(uri(user, RESTRICTED_PASSWORD)));
        dev.workflowworker.core.WorkerService service = dev.workflowworker.core.WorkerService.builder()
                .transport(transport)
                .lockProvider(transport.locks())
                .runtime(dev.workflowworker.core.ActionRuntime.builder().on("WORK", ctx -> { }).build())
                .workerCount(1)
                .pollInterval(Duration.ofMillis(100))
                .claimIdle(Duration.ofMillis(500))
                .healthCheckInterval(Duration.ofMillis(200))
                .build();
        try {
            service.start();
            service.publisher().publish(dev.workflowworker.api.WorkflowEvent.builder("WORK").eventId("e1").build());
            Await.until(Duration.ofSeconds(15), () ->
                    service.health().status() != dev.workflowworker.api.HealthStatus.HEALTHY
                            && service.health().workers().stream().anyMatch(w -> w.reason() != null
                            && w.reason().contains("NOPERM") && w.reason().contains("'" + command + "'")),
                    "the refused '" + command + "' to show in the health");
            assertNoSecretIn(service.health().toJson(), "the health JSON", RESTRICTED_PASSWORD);
        } finally {
            service.close();
        }
        try (Jedis admin = admin()) {
            assertTrue(deniedCommands(admin).stream().anyMatch(d -> d.contains(user) && d.endsWith(" " + command)),
                    deniedCommands(admin).toString());
        }
    }

    /** Asserts that no message in the cause chain, nor the printed stack trace, contains a secret. */
    static void assertNoSecretIn(Throwable error, String... secrets) {
        Set<Throwable> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        for (Throwable t = error; t != null && seen.add(t); t = t.getCause()) {
            assertNoSecretIn(String.valueOf(t.getMessage()), "the message of " + t.getClass().getName(), secrets);
            for (Throwable s : t.getSuppressed()) {
                assertNoSecretIn(s, secrets);
            }
        }
        StringWriter trace = new StringWriter();
        error.printStackTrace(new PrintWriter(trace));
        assertNoSecretIn(trace.toString(), "the stack trace", secrets);
    }

    static void assertNoSecretIn(String text, String where, String... secrets) {
        for (String secret : secrets) {
            if (text.contains(secret)) {
                fail("a password appears in " + where + ": " + text.replace(secret, "<PASSWORD>"));
            }
        }
    }

    /** @return the ACL log as "user denied reason object" lines */
    private static List<String> deniedCommands(Jedis admin) {
        return admin.aclLog().stream()
                .map(e -> e.getUsername() + " denied " + e.getReason() + " " + e.getObject()).toList();
    }

    /** Commands run since the last stats reset, from INFO commandstats, without the admin's own. */
    private static Set<String> usedCommands(Jedis admin) {
        Set<String> used = new TreeSet<>();
        for (String line : admin.info("commandstats").split("\r?\n")) {
            if (line.startsWith("cmdstat_") && line.contains("calls=") && !line.contains(":calls=0,")) {
                used.add(line.substring("cmdstat_".length(), line.indexOf(':')));
            }
        }
        used.removeAll(Set.of("info", "config|resetstat", "acl|log"));
        return used;
    }
}
