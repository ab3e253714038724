package dev.workflowworker.redis;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/**
 * Captures what is written to {@code System.err} and {@code System.out} (where the test
 * classpath's slf4j-simple logs) while it is open, still passing it through. Everything any
 * thread logs in that window is captured.
 */
final class OutputCapture implements AutoCloseable {

    private final PrintStream originalErr = System.err;
    private final PrintStream originalOut = System.out;
    private final ByteArrayOutputStream captured = new ByteArrayOutputStream();

    OutputCapture() {
        System.setErr(new PrintStream(new Tee(originalErr), true, StandardCharsets.UTF_8));
        System.setOut(new PrintStream(new Tee(originalOut), true, StandardCharsets.UTF_8));
    }

    /** @return everything captured so far */
    String text() {
        synchronized (captured) {
            return captured.toString(StandardCharsets.UTF_8);
        }
    }

    @Override
    public void close() {
        System.err.flush();
        System.out.flush();
        System.setErr(originalErr);
        System.setOut(originalOut);
    }

    private final class Tee extends OutputStream {
        private final PrintStream through;

        Tee(PrintStream through) {
            this.through = through;
        }

        @Override
        public void write(int b) {
            synchronized (captured) {
                captured.write(b);
            }
            through.write(b);
        }

        @Override
        public void write(byte[] b, int off, int len) {
            synchronized (captured) {
                captured.write(b, off, len);
            }
            through.write(b, off, len);
        }

        @Override
        public void flush() throws IOException {
            through.flush();
        }
    }
}
