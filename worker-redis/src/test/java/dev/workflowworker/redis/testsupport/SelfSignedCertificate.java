package dev.workflowworker.redis.testsupport;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * A self-signed server certificate for {@code localhost} and {@code 127.0.0.1}, made at test time
 * with {@code openssl} (PEM files for {@code redis-server}) and {@code keytool} (a PKCS12 trust
 * store for the client). A missing tool fails with a message naming it: TLS tests must not be
 * skipped silently.
 *
 * @param cert               the certificate, PEM; also the CA certificate, being self-signed
 * @param key                its private key, PEM, unencrypted
 * @param trustStore         a PKCS12 trust store holding the certificate
 * @param trustStorePassword the trust store's password
 */
public record SelfSignedCertificate(Path cert, Path key, Path trustStore, char[] trustStorePassword) {

    private static final long TOOL_TIMEOUT_SECONDS = 60;

    /**
     * Makes the certificate, key and trust store in a directory.
     *
     * @param dir where to write them
     * @return the files
     * @throws IllegalStateException if {@code openssl} or {@code keytool} is missing or fails
     */
    public static SelfSignedCertificate create(Path dir) {
        String openssl = onPath("openssl");
        if (openssl == null) {
            throw new IllegalStateException("TLS test needs 'openssl' on PATH to make a self-signed certificate "
                    + "(e.g. apt-get install openssl); it is missing");
        }
        Path keytool = Path.of(System.getProperty("java.home"), "bin", "keytool");
        if (!Files.isExecutable(keytool)) {
            String found = onPath("keytool");
            if (found == null) {
                throw new IllegalStateException("TLS test needs 'keytool' (from the JDK) to make a trust store; "
                        + "it is neither in " + keytool.getParent() + " nor on PATH");
            }
            keytool = Path.of(found);
        }
        Path cert = dir.resolve("redis.crt");
        Path key = dir.resolve("redis.key");
        Path trustStore = dir.resolve("truststore.p12");
        char[] password = UUID.randomUUID().toString().toCharArray();
        run(dir, openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
                "-keyout", key.toString(), "-out", cert.toString());
        run(dir, keytool.toString(), "-importcert", "-noprompt", "-alias", "redis", "-file", cert.toString(),
                "-keystore", trustStore.toString(), "-storetype", "PKCS12", "-storepass", new String(password));
        return new SelfSignedCertificate(cert, key, trustStore, password);
    }

    private static void run(Path dir, String... command) {
        Path output = dir.resolve("tool-output.log");
        try {
            Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
                    .redirectOutput(output.toFile()).start();
            try {
                if (!p.waitFor(TOOL_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                    throw new IllegalStateException(command[0] + " did not finish within " + TOOL_TIMEOUT_SECONDS + " s");
                }
                if (p.exitValue() != 0) {
                    throw new IllegalStateException(String.join(" ", redactedCopy(command)) + " failed with exit code "
                            + p.exitValue() + ": " + Files.readString(output, StandardCharsets.UTF_8));
                }
            } finally {
                p.destroyForcibly();
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + command[0], e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running " + command[0], e);
        }
    }

    private static List<String> redactedCopy(String... command) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < command.length; i++) {
            out.add(i > 0 && "-storepass".equals(command[i - 1]) ? "***" : command[i]);
        }
        return out;
    }

    private static String onPath(String name) {
        String path = System.getenv("PATH");
        if (path == null) {
            return null;
        }
        for (String d : path.split(File.pathSeparator)) {
            File f = new File(d, name);
            if (f.isFile() && f.canExecute()) {
                return f.getAbsolutePath();
            }
        }
        return null;
    }
}
