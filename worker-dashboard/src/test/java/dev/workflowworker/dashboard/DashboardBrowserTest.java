package dev.workflowworker.dashboard;

import dev.workflowworker.api.EventOutcome;
import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.core.schedule.Schedule;
import dev.workflowworker.core.schedule.Schedules;
import dev.workflowworker.redis.RedisDeadLetters;
import dev.workflowworker.redis.WorkflowAdmin;
import dev.workflowworker.core.testing.Await;
import dev.workflowworker.redis.testsupport.RedisServer;
import dev.workflowworker.redis.testsupport.RedisServerExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.logging.Level;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The dashboard in headless Chromium against a real service on a real Redis: what an operator
 * sees and does. Also writes the screenshots docs/dashboard.md shows into {@code docs/}.
 */
@ExtendWith(RedisServerExtension.class)
class DashboardBrowserTest {

    private static final Duration WAIT = Duration.ofSeconds(20);

    @TempDir
    static Path profile;

    private static ChromeDriver browser;
    private Fixture fixture;

    @BeforeAll
    static void startBrowser() throws Exception {
        browser = Browser.start(profile.resolve("chromium-profile"));
    }

    @AfterAll
    static void stopBrowser() {
        if (browser != null) {
            browser.quit();
        }
    }

    @AfterEach
    void stopFixture() {
        if (fixture != null) {
            fixture.close();
        }
    }

    @Test
    void overviewLoadsWithoutConsoleErrorsAndShowsWhatTheAdminReads(RedisServer redis) throws Exception {
        fixture = new Fixture(redis, true);
        for (int i = 0; i < 12; i++) {
            fixture.publish("TICKET_CREATED", "acme", Map.of("ticket_id", "T-" + i));
        }
        for (int i = 0; i < 3; i++) {
            fixture.publish("ORDER_SHIP", "globex", Map.of("order", "O-" + i));
        }
        Await.until(WAIT, () ->
                fixture.count("TICKET_CREATED", EventOutcome.Kind.SUCCEEDED) == 12
                        && fixture.admin.deadLetterCount() == 3,
                "12 successes and 3 dead letters");
        browser.manage().logs().get(LogType.BROWSER); // drop entries of earlier tests

        browser.get(fixture.url);
        WebDriverWait wait = new WebDriverWait(browser, WAIT);
        wait.until(d -> text("c-succeeded").equals("12"));
        WorkflowAdmin.QueueStats stats = fixture.admin.stats();
        wait.until(d -> cell("deadLetters").equals("3"));
        assertEquals(String.valueOf(stats.length()), cell("length"));
        // A partitioned stream's lag is unknown (-1): the page says so rather than show a count.
        assertEquals(stats.lag() < 0 ? "?" : String.valueOf(stats.lag()), cell("lag"));
        assertEquals(String.valueOf(stats.pending()), cell("pending"));
        assertEquals(String.valueOf(stats.retryScheduled()), cell("retryScheduled"));
        assertEquals(String.valueOf(stats.deadLetters()), cell("deadLetters"));
        assertEquals(stats.stream(), cell("stream"));
        assertEquals("healthy", text("status"));
        assertEquals("3", text("c-dead"));
        wait.until(d -> browser.findElements(By.cssSelector("#workers tbody tr")).size() == 2);
        wait.until(d -> browser.findElements(By.cssSelector("#outcomes tbody tr")).size() == 15);
        // The chart has sampled the burst: wait for one more sample so the screenshot shows it.
        wait.until(d -> !"0".equals(browser.findElement(By.id("chart")).getDomAttribute("data-events"))
                && browser.findElement(By.id("chart")).getDomAttribute("data-events") != null);
        screenshot("dashboard-overview.png");

        List<LogEntry> errors = browser.manage().logs().get(LogType.BROWSER).getAll().stream()
                .filter(e -> e.getLevel().intValue() >= Level.WARNING.intValue()).collect(Collectors.toList());
        assertTrue(errors.isEmpty(), () -> "console errors: " + errors);
    }

    @ParameterizedTest(name = "{0} partitions")
    @ValueSource(ints = {0, 4})
    void deadLetterFoundBySearchIsReplayedAndThenSucceeds(int partitions, RedisServer redis) throws Exception {
        fixture = new Fixture(redis, true, partitions);
        for (int i = 0; i < 30; i++) {
            fixture.publish("NOISE", i % 2 == 0 ? "acme" : "globex", Map.of("n", i));
        }
        fixture.publish("ORDER_SHIP", "globex", Map.of("order", "O-77"));
        for (int i = 0; i < 5; i++) {
            fixture.publish("NOISE", "globex", Map.of("n", 100 + i));
        }
        Await.until(WAIT, () -> fixture.admin.deadLetterCount() == 36, "36 dead letters");
        String wanted = fixture.orderDeadLetters().get("O-77");

        browser.get(fixture.url + "#dead-letters");
        WebDriverWait wait = new WebDriverWait(browser, WAIT);
        wait.until(d -> browser.findElements(By.cssSelector("#dl-rows tr")).size() == 25);
        // docs/dashboard.md shows the default, shared stream.
        boolean docPictures = partitions == 0;
        if (docPictures) {
            screenshot("dashboard-dead-letters.png");
        }
        type("dl-type", "order_ship");
        type("dl-tenant", "globex");
        type("dl-q", "WAREHOUSE");
        browser.findElement(By.id("dl-search")).click();
        wait.until(d -> browser.findElements(By.cssSelector("#dl-rows tr")).size() == 1);
        WebElement found = browser.findElement(By.cssSelector("#dl-rows tr"));
        assertEquals(wanted, found.getDomAttribute("data-id"));
        assertTrue(found.getText().contains("warehouse closed for order O-77"), found.getText());

        found.click();
        wait.until(d -> text("dl-detail-id").equals(wanted));
        // Asked for with a literal slash: servlet containers such as Tomcat refuse "%2F" in a path.
        assertTrue(fixture.requestedPaths.contains("/dashboard/api/dead-letters/" + wanted),
                fixture.requestedPaths.toString());
        assertTrue(text("dl-stack").contains("PermanentWorkflowException"), text("dl-stack"));
        assertTrue(text("dl-original").contains("\"O-77\""), text("dl-original"));
        if (docPictures) {
            screenshot("dashboard-dead-letter-detail.png");
        }

        fixture.fixOrders.set(true);
        type("token", Fixture.TOKEN);
        browser.findElement(By.id("dl-replay-one")).click();
        wait.until(d -> text("message").equals("replayed " + wanted));
        fixture.assertReplayedWhereTheyFailed(Map.of("O-77", wanted));
        assertEquals(1, fixture.count("ORDER_SHIP", EventOutcome.Kind.SUCCEEDED));
        assertEquals(35, fixture.admin.deadLetterCount());
    }

    @ParameterizedTest(name = "{0} partitions")
    @ValueSource(ints = {0, 4})
    void deadLettersArePagedReplayedSelectedReplayedAllAndPurged(int partitions, RedisServer redis) throws Exception {
        fixture = new Fixture(redis, true, partitions);
        for (int i = 0; i < 26; i++) {
            fixture.publish("ORDER_SHIP", "globex", Map.of("order", "O-" + i));
        }
        for (int i = 0; i < 4; i++) {
            fixture.publish("NOISE", "acme", Map.of("n", i));
        }
        Await.until(WAIT, () -> fixture.admin.deadLetterCount() == 30, "30 dead letters");
        Map<String, String> orders = fixture.orderDeadLetters();

        browser.get(fixture.url + "#dead-letters");
        WebDriverWait wait = new WebDriverWait(browser, WAIT);
        wait.until(d -> rowIds().size() == 25);
        Set<String> seen = new HashSet<>(rowIds());
        browser.findElement(By.id("dl-next")).click();
        wait.until(d -> rowIds().size() == 5);
        seen.addAll(rowIds());
        assertEquals(Set.copyOf(fixture.admin.deadLetters(null, 100).stream().map(RedisDeadLetters.Entry::id).toList()),
                seen, "two pages show every dead letter once");
        assertFalse(browser.findElement(By.id("dl-next")).isEnabled(), "no third page");

        browser.findElement(By.id("dl-first")).click();
        wait.until(d -> rowIds().size() == 25);
        List<WebElement> orderRows = browser.findElements(By.cssSelector("#dl-rows tr")).stream()
                .filter(r -> r.getText().contains("ORDER_SHIP")).limit(2).toList();
        Map<String, String> selected = new HashMap<>(orders);
        selected.values().retainAll(orderRows.stream().map(r -> r.getDomAttribute("data-id")).toList());
        assertEquals(2, selected.size(), selected.toString());
        orderRows.forEach(r -> r.findElement(By.className("dl-check")).click());
        fixture.fixOrders.set(true);
        type("token", Fixture.TOKEN);
        browser.findElement(By.id("dl-replay-selected")).click();
        wait.until(d -> text("message").equals("replayed 2, already gone 0"));
        fixture.assertReplayedWhereTheyFailed(selected);

        browser.findElement(By.id("dl-replay-all")).click();
        wait.until(ExpectedConditions.alertIsPresent()).accept();
        // Either the answer to the click or, if a refresh came first, the running notice.
        wait.until(d -> text("message").startsWith("replaying all dead letters"));
        fixture.assertReplayedWhereTheyFailed(orders);
        // The NOISE events fail again and are dead letters anew, written after "all" was counted.
        Await.until(WAIT, () -> "28 replayed".equals(fixture.overview().path("lastReplayAll").asText()),
                "replay all to finish with the 24 orders and 4 noise events it found");
        Await.until(WAIT, () -> fixture.admin.deadLetterCount() == 4
                && fixture.count("NOISE", EventOutcome.Kind.DEAD_LETTERED) == 8, "the noise dead-lettered again");

        browser.findElement(By.id("dl-purge")).click();
        wait.until(ExpectedConditions.alertIsPresent()).accept();
        wait.until(d -> text("message").equals("purged 4") && rowIds().isEmpty());
        assertEquals(0, fixture.admin.deadLetterCount());
    }

    @Test
    void actionWithoutTheTokenIsRefusedAndChangesNothing(RedisServer redis) throws Exception {
        fixture = new Fixture(redis, true);
        browser.get(fixture.url);
        WebDriverWait wait = new WebDriverWait(browser, WAIT);
        wait.until(d -> text("status").equals("healthy"));
        browser.executeScript("sessionStorage.clear()");
        type("token", "");
        browser.findElement(By.id("pause")).click();
        wait.until(d -> text("message").startsWith("refused (401)"));
        assertFalse(fixture.service.isPaused());

        type("token", "not-the-operator-token-at-all");
        browser.findElement(By.id("pause")).click();
        wait.until(d -> text("message").startsWith("refused (401)") && !fixture.service.isPaused());

        type("token", Fixture.TOKEN);
        browser.findElement(By.id("pause")).click();
        wait.until(d -> fixture.service.isPaused() && !browser.findElement(By.id("paused")).getDomAttribute("class")
                .contains("hidden"));
        browser.findElement(By.id("resume")).click();
        wait.until(d -> !fixture.service.isPaused());
    }

    @Test
    void eventDataHoldingScriptAndHtmlIsShownAsText(RedisServer redis) throws Exception {
        fixture = new Fixture(redis, true);
        String note = "<img src=x onerror=\"window.__xss='img'\"><script>window.__xss='script'</script>";
        String tenant = "<b id=\"xss-bold\">bold</b>";
        fixture.publish("XSS_EVENT", tenant, Map.of("note", note));
        String evilType = "<script>window.__xss='type'</script>";
        fixture.publish(evilType, tenant, Map.of("x", "<iframe src=javascript:alert(1)>"));
        Await.until(WAIT, () -> fixture.admin.deadLetterCount() == 2, "both dead-lettered");

        browser.get(fixture.url);
        WebDriverWait wait = new WebDriverWait(browser, WAIT);
        wait.until(d -> browser.findElements(By.cssSelector("#outcomes tbody tr")).size() == 2);
        String outcomes = browser.findElement(By.id("outcomes")).getText();
        assertTrue(outcomes.contains(note), outcomes);
        assertTrue(outcomes.contains(tenant), outcomes);
        assertTrue(outcomes.contains(evilType), outcomes);

        browser.get(fixture.url + "#dead-letters");
        wait.until(d -> browser.findElements(By.cssSelector("#dl-rows tr")).size() == 2);
        String rows = browser.findElement(By.id("dl-rows")).getText();
        assertTrue(rows.contains(tenant), rows);
        assertTrue(rows.contains(evilType), rows);
        browser.findElements(By.cssSelector("#dl-rows tr")).stream().filter(r -> r.getText().contains("XSS_EVENT"))
                .findFirst().orElseThrow().click();
        wait.until(d -> text("dl-original").contains("window.__xss='script'"));

        assertTrue(browser.findElements(By.cssSelector("main img, main iframe, #xss-bold")).isEmpty(),
                "event data became markup");
        assertEquals(Boolean.TRUE, browser.executeScript("return window.__xss === undefined"), "a script ran");
    }

    @Test
    void schedulesPanelShowsWhereEachStandsAndActsWithTheTokenOnly(RedisServer redis) throws Exception {
        fixture = new Fixture(redis, true, 4);
        Schedules schedules = fixture.service.schedules().orElseThrow();
        schedules.put(Schedule.every("tick", Duration.ofSeconds(1)).eventType("TICKET_CREATED")
                .executionId("ticks").build());
        schedules.put(Schedule.cron("sla-report", "0 7 * * 1-5").zone("Europe/Berlin").eventType("TICKET_CREATED")
                .paused(true).build());
        for (String id : List.of("escalate-1", "escalate-2")) {
            fixture.service.delayed().orElseThrow().publishAfter(WorkflowEvent.builder("TICKET_CREATED").eventId(id)
                    .build(), Duration.ofHours(4));
        }
        Await.until(WAIT, () -> schedules.get("tick").orElseThrow().fired() >= 1, "tick to fire");

        browser.get(fixture.url);
        WebDriverWait wait = new WebDriverWait(browser, WAIT);
        wait.until(d -> text("c-delayed").equals("2"));
        browser.findElement(By.id("nav-schedules")).click();
        wait.until(d -> scheduleIds().size() == 2);
        assertEquals("2", text("sc-delayed"));
        assertEquals("paused", scheduleCell("sla-report", "state"));
        assertEquals("cron 0 7 * * 1-5", scheduleCell("sla-report", "timing"));
        assertEquals("Europe/Berlin", scheduleCell("sla-report", "zone"));
        assertEquals(schedules.get("sla-report").orElseThrow().nextFire().toString(), browser.findElement(
                By.cssSelector("#sc-rows tr[data-id='sla-report'] td[data-field='nextFire'] time"))
                .getDomAttribute("datetime"));
        assertEquals("–", scheduleCell("sla-report", "lastFire"));
        assertEquals("active", scheduleCell("tick", "state"));
        // The panel refreshes while open: the count and the last fire move on as tick fires.
        long firedBefore = schedules.get("tick").orElseThrow().fired();
        wait.until(d -> Long.parseLong(scheduleCell("tick", "fired")) > firedBefore);
        assertFalse(scheduleCell("tick", "lastFire").equals("–"));
        screenshot("dashboard-schedules.png");

        browser.executeScript("sessionStorage.clear()");
        type("token", "");
        clickInRow("tick", "sc-pause");
        wait.until(d -> text("message").startsWith("refused (401)"));
        assertFalse(schedules.get("tick").orElseThrow().schedule().paused(), "a refused pause paused it");

        type("token", Fixture.TOKEN);
        clickInRow("tick", "sc-pause");
        wait.until(d -> text("message").equals("paused tick") && scheduleCell("tick", "state").equals("paused"));
        assertTrue(schedules.get("tick").orElseThrow().schedule().paused());
        clickInRow("tick", "sc-resume");
        wait.until(d -> text("message").equals("resumed tick") && scheduleCell("tick", "state").equals("active"));
        assertFalse(schedules.get("tick").orElseThrow().schedule().paused());

        clickInRow("sla-report", "sc-trigger");
        wait.until(d -> text("message").startsWith("triggered sla-report: event sla-report:trigger:"));
        String eventId = text("message").substring("triggered sla-report: event ".length());
        Await.until(WAIT, () -> fixture.outcomes.stream().anyMatch(o -> o.kind() == EventOutcome.Kind.SUCCEEDED
                && o.event() != null && o.event().eventId().equals(eventId)), "the triggered occurrence to run");

        clickInRow("sla-report", "sc-delete");
        wait.until(ExpectedConditions.alertIsPresent()).accept();
        wait.until(d -> text("message").equals("deleted sla-report") && scheduleIds().equals(List.of("tick")));
        assertTrue(schedules.get("sla-report").isEmpty());
    }

    @Test
    void aReadOnlyDashboardShowsSchedulesWithoutActions(RedisServer redis) throws Exception {
        fixture = new Fixture(redis, false, 4);
        fixture.service.schedules().orElseThrow().put(Schedule.every("nightly", Duration.ofHours(24))
                .eventType("TICKET_CREATED").build());
        browser.get(fixture.url + "#schedules");
        WebDriverWait wait = new WebDriverWait(browser, WAIT);
        wait.until(d -> scheduleIds().equals(List.of("nightly")));
        assertEquals("every PT24H", scheduleCell("nightly", "timing"));
        assertEquals("–", scheduleCell("nightly", "zone"));
        assertEquals("0", text("sc-delayed"));
        assertFalse(browser.findElement(By.cssSelector("#sc-rows tr[data-id='nightly'] .sc-pause")).isDisplayed(),
                "a read-only page offers no pause");
        assertFalse(browser.findElement(By.cssSelector("#sc-rows tr[data-id='nightly'] .sc-delete")).isDisplayed());
    }

    /** The listed schedules' ids, read in one step: a refresh may replace the rows between two. */
    @SuppressWarnings("unchecked")
    private static List<String> scheduleIds() {
        return (List<String>) browser.executeScript(
                "return Array.from(document.querySelectorAll('#sc-rows tr'), function (r) { return r.dataset.id; });");
    }

    private static String scheduleCell(String id, String field) {
        return new WebDriverWait(browser, WAIT).ignoring(StaleElementReferenceException.class).until(d -> d.findElement(
                By.cssSelector("#sc-rows tr[data-id='" + id + "'] td[data-field='" + field + "']")).getText());
    }

    /** Clicks a row's button; the open panel refreshes every two seconds, so a row found may be replaced before the click. */
    private static void clickInRow(String id, String buttonClass) {
        new WebDriverWait(browser, WAIT).ignoring(StaleElementReferenceException.class).until(d -> {
            d.findElement(By.cssSelector("#sc-rows tr[data-id='" + id + "'] ." + buttonClass)).click();
            return true;
        });
    }

    /** The listed dead letters' ids, read in one step: a page load may replace the rows between two. */
    @SuppressWarnings("unchecked")
    private static List<String> rowIds() {
        return (List<String>) browser.executeScript(
                "return Array.from(document.querySelectorAll('#dl-rows tr'), function (r) { return r.dataset.id; });");
    }

    private static String text(String id) {
        return browser.findElement(By.id(id)).getText();
    }

    private static String cell(String field) {
        return browser.findElement(By.cssSelector("#streams td[data-field='" + field + "']")).getText();
    }

    private static void type(String id, String value) {
        WebElement e = browser.findElement(By.id(id));
        e.clear();
        if (!value.isEmpty()) {
            e.sendKeys(value);
        }
    }

    /**
     * Screenshots go to target/screenshots, or where {@code -Ddashboard.screenshots=../docs} says
     * (how the pictures of docs/dashboard.md are refreshed), so a plain build leaves the repository untouched.
     */
    private static void screenshot(String name) throws Exception {
        Path dir = Paths.get(System.getProperty("dashboard.screenshots", "target/screenshots"));
        Files.createDirectories(dir);
        Path shot = browser.getScreenshotAs(OutputType.FILE).toPath();
        Files.copy(shot, dir.resolve(name), StandardCopyOption.REPLACE_EXISTING);
    }
}
