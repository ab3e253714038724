package dev.workflowworker.redis;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A TCP proxy in front of Redis that delays requests, as a network does whose packets of one
 * connection are lost and sent again seconds later while a new connection gets through at once
 * (TCP retransmission backs off exponentially; a proxy or load balancer may queue too). Armed
 * with texts and a count, it holds back the first {@code count} requests containing all of the
 * texts, and everything sent after them on their connections, until {@link #release}: the client
 * sees a socket timeout and closes its connection, but the request still reaches Redis later and
 * runs there (a closing client's unsent bytes and its FIN go out after the data, so Redis reads
 * the request before the close). {@link #landed} counts the replies Redis gave to released
 * requests: each of those ran.
 */
final class LateRequestProxy implements AutoCloseable {

    /** One client connection and its connection to Redis. */
    private final class Link {
        final Socket client;
        final Socket upstream;
        /** Bytes held back, under this link's monitor; null while nothing is. */
        ByteArrayOutputStream holding;
        boolean released;
        boolean clientClosed;
        boolean landedCounted;

        Link(Socket client, Socket upstream) {
            this.client = client;
            this.upstream = upstream;
        }

        synchronized void request(byte[] buf, int n) throws IOException {
            if (holding == null && remaining.get() > 0 && containsAll(buf, n)
                    && remaining.getAndDecrement() > 0) {
                holding = new ByteArrayOutputStream();
                held.add(this);
                heldCount.countDown();
            }
            if (holding != null && !released) {
                holding.write(buf, 0, n);
                return;
            }
            upstream.getOutputStream().write(buf, 0, n);
            upstream.getOutputStream().flush();
        }

        /** The client closed: the connection to Redis stays open while requests are held, as the kernel's does. */
        synchronized boolean clientClosed() {
            clientClosed = true;
            return holding == null || released;
        }

        synchronized void release() throws IOException {
            released = true;
            upstream.getOutputStream().write(holding.toByteArray());
            upstream.getOutputStream().flush();
        }

        /** A reply from Redis: {@return whether the connection to Redis is done with} */
        synchronized boolean replied() {
            if (holding != null && released && !landedCounted) {
                landedCounted = true;
                landed.countDown();
            }
            return clientClosed && (holding == null || released);
        }
    }

    private final ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private final List<Link> held = new CopyOnWriteArrayList<>();
    private final AtomicInteger remaining = new AtomicInteger();
    private volatile List<byte[]> texts = List.of();
    private volatile CountDownLatch heldCount = new CountDownLatch(0);
    /** Counted down once per released connection whose request Redis answered: it ran, late. */
    volatile CountDownLatch landed = new CountDownLatch(0);

    LateRequestProxy(String host, int upstreamPort) throws IOException {
        Thread accept = new Thread(() -> {
            while (!server.isClosed()) {
                try {
                    Socket client = server.accept();
                    Socket upstream = new Socket(host, upstreamPort);
                    sockets.add(client);
                    sockets.add(upstream);
                    Link link = new Link(client, upstream);
                    requests(link);
                    replies(link);
                } catch (IOException e) {
                    return; // closed
                }
            }
        }, "late-request-proxy");
        accept.setDaemon(true);
        accept.start();
    }

    int port() {
        return server.getLocalPort();
    }

    /** Holds back the next {@code count} requests that contain every one of {@code all}. */
    void holdRequestsContaining(int count, String... all) {
        texts = java.util.Arrays.stream(all).map(s -> s.getBytes(StandardCharsets.UTF_8)).toList();
        heldCount = new CountDownLatch(count);
        landed = new CountDownLatch(count);
        remaining.set(count);
    }

    /** Waits up to {@code ms} until every request armed for is held back. */
    boolean awaitHeld(long ms) throws InterruptedException {
        return heldCount.await(ms, java.util.concurrent.TimeUnit.MILLISECONDS);
    }

    /** The held requests go on to Redis, in the order they were held. */
    void release() throws IOException {
        for (Link l : held) {
            l.release();
        }
    }

    private boolean containsAll(byte[] buf, int n) {
        String s = new String(buf, 0, n, StandardCharsets.ISO_8859_1);
        for (byte[] t : texts) {
            if (!s.contains(new String(t, StandardCharsets.ISO_8859_1))) {
                return false;
            }
        }
        return true;
    }

    private void requests(Link link) {
        Thread t = new Thread(() -> {
            byte[] buf = new byte[65536];
            try {
                int n;
                while ((n = link.client.getInputStream().read(buf)) > 0) {
                    link.request(buf, n);
                }
            } catch (IOException e) {
                // the client's side closed
            }
            if (link.clientClosed()) {
                closeQuietly(link.upstream);
            }
            closeQuietly(link.client);
        }, "late-request-proxy-requests");
        t.setDaemon(true);
        t.start();
    }

    private void replies(Link link) {
        Thread t = new Thread(() -> {
            byte[] buf = new byte[65536];
            try {
                int n;
                while ((n = link.upstream.getInputStream().read(buf)) > 0) {
                    boolean done = link.replied();
                    try {
                        link.client.getOutputStream().write(buf, 0, n);
                        link.client.getOutputStream().flush();
                    } catch (IOException clientGone) {
                        // the client timed out and closed: nobody reads this reply
                    }
                    if (done) {
                        break;
                    }
                }
            } catch (IOException e) {
                // Redis's side closed
            }
            closeQuietly(link.upstream);
            closeQuietly(link.client);
        }, "late-request-proxy-replies");
        t.setDaemon(true);
        t.start();
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException e) {
            // already closed
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
        for (Socket s : sockets) {
            s.close();
        }
    }
}
