package dev.workflowworker.redis;

import dev.workflowworker.api.EventTransport;
import dev.workflowworker.redis.testsupport.SpawnedRedisServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.resps.AccessControlLogEntry;

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
            "set", "get", "del", "exists", "pexpire", "incr",
            // retry set
            "zadd", "zrange", "zrangebyscore", "zrem",
            // connection setup: the client name (Jedis ignores a refusal, but it is logged by Redis)
            "client|setname");

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
        users.add(restrictedUser("restricted", RESTRICTED_PASSWORD, NEEDED_COMMANDS));
        for (String missing : List.of("xreadgroup", "xgroup|create", "evalsha")) {
            List<String> fewer = new ArrayList<>(NEEDED_COMMANDS);
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
        return "user " + name + " on >" + password + " ~workflow:* resetchannels -@all "
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

    private static RedisOptions options(String uri) {
        return RedisOptions.builder().uri(uri)
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
        assertFalse(options.toString().contains(WORKER_PASSWORD));
        SecureFlow.run(options);
        try (Jedis admin = admin()) {
            assertEquals(List.of(), admin.aclLog().stream().map(AccessControlLogEntry::toString).toList());
            System.err.println("COMMANDS USED: " + usedCommands(admin));
        }
    }

    @Test
    void restrictedUserRunsTheWholeFlowAndUsesExactlyItsCommands() throws Exception {
        SecureFlow.run(options(uri("restricted", RESTRICTED_PASSWORD)));
        try (Jedis admin = admin()) {
            List<String> denied = admin.aclLog().stream()
                    .map(e -> e.getUsername() + " denied " + e.getReason() + " " + e.getObject()).toList();
            System.err.println("DENIED: " + denied);
            System.err.println("COMMANDS USED: " + usedCommands(admin));
        }
    }

    @Test
    void wrongPasswordFailsAtStartWithoutRevealingIt() {
        String wrong = secret("wrong");
        try (OutputCapture log = new OutputCapture()) {
            RuntimeException e = assertTimeoutPreemptively(Duration.ofSeconds(10),
                    () -> assertThrows(RuntimeException.class,
                            () -> RedisEventTransport.create(options(uri("worker", wrong))).close()));
            StringWriter trace = new StringWriter();
            e.printStackTrace(new PrintWriter(trace));
            System.err.println("EXCEPTION: " + trace);
        }
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
