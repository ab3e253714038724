package dev.workflowworker.redis;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A TCP proxy in front of Redis that logs every request it passes on, by connection and in the
 * order it passed them, and can run an action just before passing on a request: what a test
 * needs to see in which order one connection sent its commands, and to change a key between a
 * {@code WATCH} and its {@code EXEC} at a chosen moment rather than at a lucky one.
 */
final class RequestLogProxy implements AutoCloseable {

    /** One request as read from a connection: possibly several pipelined commands, in RESP. */
    record Request(int connection, String text) {

        /** {@return whether it holds {@code command}, an argument or command name, as a whole RESP bulk string} */
        boolean has(String bulk) {
            return text.contains("$" + bulk.getBytes(StandardCharsets.UTF_8).length + "\r\n" + bulk + "\r\n");
        }
    }

    /** Decides, for a request about to be passed on, whether to run something first. */
    interface Interceptor {
        void before(Request request);
    }

    private final ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private final List<Request> log = new CopyOnWriteArrayList<>();
    private final AtomicInteger connections = new AtomicInteger();
    private volatile Interceptor interceptor = r -> { };

    RequestLogProxy(String host, int upstreamPort) throws IOException {
        Thread accept = new Thread(() -> {
            while (!server.isClosed()) {
                try {
                    Socket client = server.accept();
                    Socket upstream = new Socket(host, upstreamPort);
                    sockets.add(client);
                    sockets.add(upstream);
                    int id = connections.incrementAndGet();
                    pump(client, upstream, id, true);
                    pump(upstream, client, id, false);
                } catch (IOException e) {
                    return; // closed
                }
            }
        }, "request-log-proxy");
        accept.setDaemon(true);
        accept.start();
    }

    int port() {
        return server.getLocalPort();
    }

    /** Runs {@code i} on each request from now on, on its connection's thread, before it goes on. */
    void intercept(Interceptor i) {
        interceptor = i;
    }

    /** {@return every request passed on so far, in order} */
    List<Request> log() {
        return List.copyOf(log);
    }

    private void pump(Socket from, Socket to, int id, boolean requests) {
        Thread t = new Thread(() -> {
            byte[] buf = new byte[65536];
            try {
                int n;
                while ((n = from.getInputStream().read(buf)) > 0) {
                    if (requests) {
                        Request r = new Request(id, new String(buf, 0, n, StandardCharsets.ISO_8859_1));
                        interceptor.before(r);
                        log.add(r);
                    }
                    to.getOutputStream().write(buf, 0, n);
                    to.getOutputStream().flush();
                }
            } catch (IOException e) {
                // one side closed
            }
            try {
                from.close();
                to.close();
            } catch (IOException ignored) {
                // closing
            }
        }, "request-log-proxy-pump");
        t.setDaemon(true);
        t.start();
    }

    @Override
    public void close() throws IOException {
        server.close();
        for (Socket s : sockets) {
            s.close();
        }
    }
}
