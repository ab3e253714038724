package dev.workflowworker.core.internal;

import com.fasterxml.jackson.core.JsonParseException;
import dev.workflowworker.api.ErrorCategory;
import dev.workflowworker.api.ErrorClassifier;
import dev.workflowworker.api.PermanentWorkflowException;
import dev.workflowworker.api.RecoverableWorkflowException;
import dev.workflowworker.api.TransientWorkflowException;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.SocketTimeoutException;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;

import static org.junit.jupiter.api.Assertions.assertEquals;

class ClassificationTest {

    static class QuotaExceeded extends RuntimeException {
    }

    @Test
    void exceptionTypeWinsOverHostClassifiers() {
        Classification c = new Classification(List.of(e -> Optional.of(ErrorCategory.PERMANENT)));
        assertEquals(ErrorCategory.TRANSIENT, c.classify(new TransientWorkflowException("x")));
        assertEquals(ErrorCategory.RECOVERABLE, c.classify(new RecoverableWorkflowException("x")));
        assertEquals(ErrorCategory.PERMANENT, c.classify(new PermanentWorkflowException("x")));
    }

    @Test
    void hostClassifiersRunInOrderBeforeDefaults() {
        Classification c = new Classification(List.of(
                ErrorClassifier.of(QuotaExceeded.class, ErrorCategory.RECOVERABLE),
                ErrorClassifier.of(RuntimeException.class, ErrorCategory.PERMANENT),
                ErrorClassifier.of(IOException.class, ErrorCategory.PERMANENT)));
        assertEquals(ErrorCategory.RECOVERABLE, c.classify(new QuotaExceeded()));
        assertEquals(ErrorCategory.PERMANENT, c.classify(new IllegalStateException()));
        assertEquals(ErrorCategory.PERMANENT, c.classify(new IOException("host says permanent")));
    }

    @Test
    void throwingClassifierIsSkipped() {
        Classification c = new Classification(List.of(e -> {
            throw new IllegalStateException("broken classifier");
        }, ErrorClassifier.of(QuotaExceeded.class, ErrorCategory.PERMANENT)));
        assertEquals(ErrorCategory.PERMANENT, c.classify(new QuotaExceeded()));
    }

    @Test
    void defaultsTreatIoAndTimeoutsAsTransientBadInputAsPermanentRestAsRecoverable() {
        Classification c = new Classification(List.of());
        assertEquals(ErrorCategory.TRANSIENT, c.classify(new IOException("reset")));
        assertEquals(ErrorCategory.TRANSIENT, c.classify(new SocketTimeoutException()));
        assertEquals(ErrorCategory.TRANSIENT, c.classify(new TimeoutException()));
        assertEquals(ErrorCategory.TRANSIENT, c.classify(new RuntimeException("wrapped", new IOException())));
        assertEquals(ErrorCategory.PERMANENT, c.classify(new IllegalArgumentException("bad")));
        assertEquals(ErrorCategory.PERMANENT, c.classify(new JsonParseException(null, "bad json")));
        assertEquals(ErrorCategory.RECOVERABLE, c.classify(new IllegalStateException()));
        assertEquals(ErrorCategory.RECOVERABLE, c.classify(new AssertionError()));
    }

    @Test
    void executorWrappersAreUnwrapped() {
        Classification c = new Classification(List.of());
        assertEquals(ErrorCategory.PERMANENT,
                c.classify(new ExecutionException(new PermanentWorkflowException("inner"))));
    }
}
