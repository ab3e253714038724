package dev.workflowworker.redis;

import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.core.testing.Await;
import dev.workflowworker.redis.testsupport.SelfSignedCertificate;
import dev.workflowworker.redis.testsupport.SpawnedRedisServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.DefaultJedisClientConfig;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.UUID;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * TLS on a real server: a self-signed certificate made at test time, a TLS-only
 * {@code redis-server} that also requires a password, and clients with and without the trust
 * store. Missing {@code openssl}, {@code keytool} or TLS support in {@code redis-server} fails
 * every test with a message naming what is missing; nothing is skipped.
 */
class RedisTlsTest {

    private static final String PASSWORD = "tls-Pw-" + UUID.randomUUID().toString().replace("-", "");

    private static Path dir;
    private static SelfSignedCertificate certificate;
    private static SpawnedRedisServer server;

    @BeforeAll
    static void startTlsServer() throws IOException {
        dir = Files.createTempDirectory("workflow-worker-tls-");
        certificate = SelfSignedCertificate.create(dir);
        RedisOptions trusted = RedisOptions.builder()
                .trustStore(certificate.trustStore(), certificate.trustStorePassword(), "PKCS12").build();
        try {
            server = SpawnedRedisServer.builder()
                    .tls(certificate.cert(), certificate.key(), certificate.cert())
                    .args("--requirepass", PASSWORD)
                    .probe(DefaultJedisClientConfig.builder().password(PASSWORD)
                            .sslSocketFactory(trusted.sslSocketFactory()))
                    .start();
        } catch (IllegalStateException e) {
            throw new IllegalStateException("redis-server on PATH did not start as a TLS server; it may lack TLS "
                    + "support (Debian's redis-server has it; a source build needs BUILD_TLS=yes): "
                    + e.getMessage(), e);
        }
    }

    @AfterAll
    static void stopTlsServer() throws IOException {
        try {
            if (server != null) {
                server.close();
            }
        } finally {
            if (dir != null) {
                try (Stream<Path> files = Files.walk(dir)) {
                    files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
                }
            }
        }
    }

    @BeforeEach
    void emptyServer() {
        server.flush();
    }

    /** The shared stream: the flow under TLS uses its claims, locks and consumer cleanup. */
    private static RedisOptions.Builder options(String uri) {
        return RedisOptions.builder().uri(uri).partitions(0)
                .connectTimeout(Duration.ofMillis(500))
                .socketTimeout(Duration.ofSeconds(2));
    }

    @Test
    void serviceConnectsWithRedissAndATrustStoreAndRunsTheFullFlow() throws Exception {
        RedisOptions options = options("rediss://:" + PASSWORD + "@127.0.0.1:" + server.port())
                .trustStore(certificate.trustStore(), certificate.trustStorePassword(), "PKCS12")
                .build();
        assertTrue(options.ssl());
        try (OutputCapture log = new OutputCapture()) {
            SecureFlow.run(options);
            RedisAclSecurityTest.assertNoSecretIn(log.text(), "the log of the flow", PASSWORD);
        }
    }

    @Test
    void plainConnectionToTheTlsPortFailsClearlyWithoutHanging() {
        RedisOptions options = options("redis://:" + PASSWORD + "@127.0.0.1:" + server.port()).build();
        try (OutputCapture log = new OutputCapture()) {
            RedisUnavailableException e = assertTimeoutPreemptively(Duration.ofSeconds(15), () -> {
                // The server drops the connection, which the transport treats as Redis being away:
                // creating it succeeds, using it fails.
                try (RedisEventTransport transport = RedisEventTransport.create(options)) {
                    return assertThrows(RedisUnavailableException.class,
                            () -> transport.publish(WorkflowEvent.builder("WORK").eventId("plain").build()));
                }
            });
            assertTrue(e.getMessage().startsWith("cannot publish event plain: Redis at redis://:***@127.0.0.1:"
                    + server.port() + " is unreachable ("), e.getMessage());
            RedisAclSecurityTest.assertNoSecretIn(e, PASSWORD);
            RedisAclSecurityTest.assertNoSecretIn(log.text(), "the log", PASSWORD);
        }
        // The refusal is the server's TLS layer rejecting plain text, not anything else going wrong.
        Await.until(Duration.ofSeconds(5), () -> server.logTail().contains("SSL"),
                "the server to log the rejected plain-text connection");
        assertEquals(0, countEntries(), "nothing was written over the plain connection");
    }

    @Test
    void serverCertificateNotInTheTrustStoreIsRefused() {
        // rediss:// with the JDK's default trust store, which does not hold the self-signed certificate.
        RedisOptions options = options("rediss://:" + PASSWORD + "@127.0.0.1:" + server.port()).build();
        RedisUnavailableException e = assertTimeoutPreemptively(Duration.ofSeconds(15), () -> {
            try (RedisEventTransport transport = RedisEventTransport.create(options)) {
                return assertThrows(RedisUnavailableException.class,
                        () -> transport.publish(WorkflowEvent.builder("WORK").eventId("untrusted").build()));
            }
        });
        assertTrue(e.getMessage().contains("certification path"), e.getMessage());
        RedisAclSecurityTest.assertNoSecretIn(e, PASSWORD);
        assertEquals(0, countEntries(), "nothing was written to an unverified server");
    }

    private static long countEntries() {
        try (var admin = server.client()) {
            return admin.exists("workflow:events:global") ? admin.xlen("workflow:events:global") : 0;
        }
    }
}
