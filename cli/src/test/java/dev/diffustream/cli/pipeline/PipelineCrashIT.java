package dev.diffustream.cli.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import dev.diffustream.infra.testing.TestCluster;
import dev.diffustream.producers.actor.Actor;
import dev.diffustream.sandbox.service.SandboxService;
import dev.diffustream.schemas.Topics;
import dev.diffustream.schemas.avro.AdvantageGroup;
import dev.diffustream.schemas.avro.AdvantageMember;
import dev.diffustream.schemas.avro.Checkpoint;
import dev.diffustream.schemas.avro.CheckpointKind;
import dev.diffustream.schemas.avro.Completion;
import dev.diffustream.schemas.avro.Execution;
import dev.diffustream.schemas.avro.Task;
import dev.diffustream.schemas.avro.TrainStep;
import dev.diffustream.schemas.config.KafkaConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.MemberDescription;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Crash safety of the whole pipeline, with every service in its own OS process against the real
 * local broker: feeder, advantage streams, two sandbox workers, two actors and the learner ({@code
 * diffustream feed|streams|sandbox|actor|learner}, real PyTorch, real sandbox). During one run of
 * {@value #TASKS} tasks this class {@code kill -9}s, and restarts,
 *
 * <ol>
 *   <li>a sandbox worker, right as it publishes executions;
 *   <li>an actor, right as a task arrives on one of its partitions;
 *   <li>the learner, once it has committed at least two trained checkpoints, in the middle of a
 *       checkpoint interval (its TrainSteps of the interval are written but not committed); if the
 *       kill lands just after a commit instead, it is repeated at a later interval.
 * </ol>
 *
 * The run then finishes (the learner stops at {@code learner.maxSteps} after all groups) and the
 * tests below check, from the committed logs, that nothing was trained twice or skipped, that the
 * step numbering is whole, that training resumed from the last committed checkpoint, and that no
 * group or completion was counted twice. The run happens once ({@link #runPipelineWithCrashes});
 * each test checks one property of its logs.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PipelineCrashIT {

    /** N: tasks fed, hence groups. */
    static final int TASKS = 24;

    /** G: completions per group. */
    static final int G = 4;

    /** B: groups per batch. */
    static final int BATCH = 2;

    /** I: optimizer steps per batch. */
    static final int ITERATIONS = 2;

    /** Batches per checkpoint interval: two, so an interval has a middle to be killed in. */
    static final int CHECKPOINT_EVERY = 2;

    /** S: every group trained once. */
    static final long STEPS = (long) TASKS / BATCH * ITERATIONS;

    private static final Duration WAIT = Duration.ofSeconds(180);

    @TempDir static Path tmp;

    private final String runId =
            "crash-" + Integer.toString(ThreadLocalRandom.current().nextInt(1 << 30), 36);
    private final List<ServiceProcess> services = new ArrayList<>();
    private final List<LearnerKill> learnerKills = new ArrayList<>();
    private final Map<String, Integer> exitCodes = new TreeMap<>();
    private TestCluster cluster;
    private KafkaConfig kafka;
    private Topics topics;
    private Path logDir;

    // what the run left in the logs (read after it finished)
    private StepLog log;
    private List<TrainStep> allWrittenSteps;
    private List<Checkpoint> checkpoints;
    private Map<String, AdvantageGroup> advantagesAt;
    private List<AdvantageGroup> advantages;
    private List<Completion> completions;
    private List<Execution> executions;
    private List<Execution> allWrittenExecutions;
    private int allWrittenCompletions;
    private ServiceKill sandboxKill;
    private ServiceKill actorKill;
    private List<String> sandboxDirsLeft;

    /** A learner kill: when, what was open, when it came back. */
    record LearnerKill(Instant killedAt, TrainStep openStep, Instant restartedAt) {}

    /** An actor or sandbox kill: when, how far the run was, what had just arrived. */
    record ServiceKill(
            String service, Instant killedAt, int groupsSettled, String groupId, String cause) {}

    @BeforeAll
    @Timeout(value = 12, unit = TimeUnit.MINUTES)
    void runPipelineWithCrashes() throws Exception {
        long t0 = System.nanoTime();
        cluster = TestCluster.shared();
        kafka = cluster.newKafkaConfig("pipeline-crash-it", 2);
        cluster.createTopics(kafka);
        topics = cluster.topics(kafka);
        logDir =
                Path.of("target", "pipeline-it", getClass().getSimpleName() + "-" + runId)
                        .toAbsolutePath();
        Path init = TinyPolicy.write(tmp.resolve("init"));

        ServiceProcess streams = service("streams", "streams");
        ServiceProcess sandbox0 =
                service(
                        "sandbox-0",
                        "sandbox",
                        "--id",
                        "sandbox-0",
                        "--set",
                        "sandbox.uidBase=64100");
        ServiceProcess sandbox1 =
                service(
                        "sandbox-1",
                        "sandbox",
                        "--id",
                        "sandbox-1",
                        "--set",
                        "sandbox.uidBase=64110");
        ServiceProcess learner = service("learner", "learner", "--set", "policy.init=" + init);
        ServiceProcess actor0 = service("actor-0", "actor", "--id", "actor-0");
        ServiceProcess actor1 = service("actor-1", "actor", "--id", "actor-1");
        ServiceProcess feeder = service("feeder", "feed");
        for (ServiceProcess s : services) {
            s.start();
        }
        try (TopicTail<Checkpoint> cps = TopicTail.committed(kafka, topics.checkpoints());
                TopicTail<AdvantageGroup> settled =
                        TopicTail.committed(kafka, topics.advantages())) {
            // 1. a sandbox worker, as it writes executions (after the first trained checkpoint)
            await("the first trained checkpoint", () -> trainedCheckpoints(cps) >= 1 ? 1 : null);
            sandboxKill = killSandboxAsItWrites(sandbox0, settled);
            sandbox0.restart();

            // 2. an actor, as a task arrives on one of its partitions
            actorKill = killActorAsTaskArrives(actor0, settled);
            actor0.restart();

            // 3. the learner, in the middle of a checkpoint interval (again if a kill misses)
            for (int attempt = 1; attempt <= 3; attempt++) {
                LearnerKill k = killLearnerMidInterval(learner, cps);
                learner.restart();
                learnerKills.add(new LearnerKill(k.killedAt(), k.openStep(), learner.startedAt()));
                cps.readToEnd(Duration.ofSeconds(30));
                long committed = newestBefore(cps.values(), k.killedAt()).getStep();
                if (k.openStep().getStep() > committed) {
                    break; // killed while steps were uncommitted
                }
            }

            // 4. the learner stops by itself at maxSteps, having settled every group
            Optional<Integer> learnerExit = learner.awaitExit(Duration.ofMinutes(6));
            assertThat(learnerExit)
                    .as("learner exit after %d steps; log:%n    %s", STEPS, learner.logTail(40))
                    .contains(0);
            exitCodes.put("learner", learnerExit.get());
            exitCodes.put("feeder", feeder.awaitExit(Duration.ofSeconds(30)).orElse(-1));
        } finally {
            closeAll();
        }
        try (var entries = Files.list(serviceTmp())) {
            sandboxDirsLeft =
                    entries.map(p -> p.getFileName().toString())
                            .filter(n -> n.startsWith("diffustream-sandbox-"))
                            .toList();
        }
        readLogs();
        System.out.println(report((System.nanoTime() - t0) / 1e9));
    }

    /** What happened, for the test output (not asserted: which kills hit an open transaction). */
    private String report(double seconds) {
        StringBuilder sb =
                new StringBuilder(
                        String.format(
                                Locale.ROOT,
                                "%s: run %s took %.0f s (logs in %s)",
                                getClass().getSimpleName(),
                                runId,
                                seconds,
                                logDir));
        for (LearnerKill k : learnerKills) {
            sb.append(
                    String.format(
                            Locale.ROOT,
                            "%n  learner killed at %s with step %d written, newest committed"
                                    + " checkpoint v%d (step %d); restarted at %s",
                            k.killedAt(),
                            k.openStep().getStep(),
                            newestBefore(checkpoints, k.killedAt()).getVersion(),
                            newestBefore(checkpoints, k.killedAt()).getStep(),
                            k.restartedAt()));
        }
        for (ServiceKill k : List.of(sandboxKill, actorKill)) {
            List<Completion> group =
                    completions.stream().filter(c -> c.getGroupId().equals(k.groupId())).toList();
            sb.append(
                    String.format(
                            Locale.ROOT,
                            "%n  %s killed at %s (%d groups settled) as %s; that group was"
                                    + " committed by %s at %s",
                            k.service(),
                            k.killedAt(),
                            k.groupsSettled(),
                            k.cause(),
                            group.stream().map(Completion::getActorId).distinct().toList(),
                            group.stream().map(Completion::getCreatedAt).distinct().toList()));
        }
        sb.append(
                String.format(
                        Locale.ROOT,
                        "%n  written/committed: %d/%d steps, %d/%d completions, %d/%d executions",
                        allWrittenSteps.size(),
                        log.steps().size(),
                        allWrittenCompletions,
                        completions.size(),
                        allWrittenExecutions.size(),
                        executions.size()));
        return sb.toString();
    }

    @AfterAll
    void closeAll() {
        ServiceProcess.closeAll(services);
    }

    // ---------------------------------------------------------------- learner: the step log

    @Test
    void shouldTrainEveryGroupAtMostOnceWhenTheLearnerIsKilledMidInterval() {
        // given a run whose learner was killed with uncommitted steps and restarted
        // then no group id is in two batches, and none is both skipped and trained
        assertThat(log.groupsTrainedTwice()).isEmpty();
        assertThat(log.groupsSkippedTwiceOrAlsoTrained()).isEmpty();
        // and the aborted attempt did train groups that were trained again, committed, later
        assertThat(log.abortedAmong(allWrittenSteps))
                .as("steps written by the killed learner and never committed")
                .isNotEmpty();
    }

    @Test
    void shouldSettleEveryGroupTrainedOrSkippedForADocumentedReason() {
        // given the run's N groups
        Set<String> expected = expectedGroups();
        // then trained ∪ skipped is exactly those groups
        assertThat(log.coverageProblems(expected)).isEmpty();
        // and a skipped group was dropped by the topology or entirely too stale
        assertThat(log.skipReasonProblems(this::advantageAt)).isEmpty();
        // and every trained reference points at its committed, trainable advantages record
        assertThat(log.trainedRefProblems(this::advantageAt)).isEmpty();
    }

    @Test
    void shouldNumberStepsWithoutGapsOrRepeats() {
        // then steps are 1..S in log order, in whole batches of I steps over the same groups
        assertThat(log.numberingProblems()).isEmpty();
        assertThat(log.batchProblems(ITERATIONS)).isEmpty();
        assertThat(log.steps()).hasSize((int) STEPS);
        // and checkpoints are versions 0..V, each once, each the child of the previous one
        List<Long> versions = checkpoints.stream().map(Checkpoint::getVersion).toList();
        assertThat(versions)
                .containsExactlyElementsOf(
                        IntStream.range(0, versions.size()).mapToObj(i -> (long) i).toList());
        for (Checkpoint c : checkpoints.subList(1, checkpoints.size())) {
            assertThat(c.getParentVersion())
                    .as("parent of v%d", c.getVersion())
                    .isEqualTo(c.getVersion() - 1);
        }
        assertThat(checkpoints.get(checkpoints.size() - 1).getStep()).isEqualTo(STEPS);
    }

    @Test
    void shouldResumeFromTheNewestCommittedCheckpointWhenTheLearnerIsKilled() {
        // given the learner kills, the last of them in the middle of an interval
        assertThat(learnerKills).isNotEmpty();
        LearnerKill last = learnerKills.get(learnerKills.size() - 1);
        Checkpoint before = newestBefore(checkpoints, last.killedAt());
        assertThat(before.getKind()).isEqualTo(CheckpointKind.TRAINED);
        assertThat(before.getVersion())
                .as("trained checkpoints committed before the kill")
                .isGreaterThanOrEqualTo(2);
        assertThat(last.openStep().getStep())
                .as("the step seen uncommitted when the learner was killed")
                .isGreaterThan(before.getStep());
        List<TrainStep> aborted =
                log.abortedAmong(allWrittenSteps).stream()
                        .filter(s -> s.getFinishedAt().isBefore(last.killedAt()))
                        .filter(s -> s.getStep() > before.getStep())
                        .toList();
        assertThat(aborted).as("uncommitted steps lost with the kill").isNotEmpty();
        // then for every kill, the first committed step after the newest checkpoint before it
        // continues that checkpoint's numbering from its version, trained after the restart
        for (LearnerKill k : learnerKills) {
            Checkpoint c = newestBefore(checkpoints, k.killedAt());
            assertThat(log.resumeProblems(c, k.restartedAt()))
                    .as(
                            "resume after the kill at %s (newest checkpoint v%d)",
                            k.killedAt(), c.getVersion())
                    .isEmpty();
        }
    }

    // ---------------------------------------------------------- actors, sandboxes, streams

    @Test
    void shouldEmitEveryGroupOnceWhenAnActorAndASandboxAreKilled() {
        // given an actor and a sandbox worker killed mid-run
        assertThat(List.of(sandboxKill, actorKill))
                .allSatisfy(
                        k ->
                                assertThat(k.groupsSettled())
                                        .as(k.toString())
                                        .isBetween(1, TASKS - 1));
        // then each group id is in advantages (read_committed) exactly once
        Map<String, Long> counts =
                advantages.stream()
                        .collect(
                                Collectors.groupingBy(
                                        AdvantageGroup::getGroupId,
                                        TreeMap::new,
                                        Collectors.counting()));
        assertThat(counts.keySet()).isEqualTo(expectedGroups());
        assertThat(counts).allSatisfy((g, n) -> assertThat(n).as(g).isEqualTo(1));
        // and with all G members, each a distinct completion of the group
        for (AdvantageGroup a : advantages) {
            assertThat(a.getMembers().stream().map(AdvantageMember::getCompletionId))
                    .as("members of %s", a.getGroupId())
                    .containsExactlyInAnyOrderElementsOf(completionIds(a.getGroupId()));
        }
    }

    @Test
    void shouldExecuteEveryCompletionExactlyOnce() {
        // then each committed completion has exactly one committed execution, and no other
        // execution was committed
        Map<String, Long> counts =
                executions.stream()
                        .collect(
                                Collectors.groupingBy(
                                        Execution::getCompletionId,
                                        TreeMap::new,
                                        Collectors.counting()));
        Set<String> completed =
                completions.stream()
                        .map(Completion::getCompletionId)
                        .collect(Collectors.toCollection(TreeSet::new));
        assertThat(counts.keySet()).isEqualTo(completed);
        assertThat(counts).allSatisfy((c, n) -> assertThat(n).as(c).isEqualTo(1));
    }

    @Test
    void shouldCommitExactlyGDistinctMembersPerGroup() {
        // then each group has G committed completions: members 0..G-1, each once
        Map<String, List<Completion>> byGroup =
                completions.stream().collect(Collectors.groupingBy(Completion::getGroupId));
        assertThat(byGroup.keySet()).isEqualTo(expectedGroups());
        byGroup.forEach(
                (g, list) -> {
                    assertThat(list).as("completions of %s", g).hasSize(G);
                    assertThat(list.stream().map(Completion::getCompletionId))
                            .as("completion ids of %s", g)
                            .containsExactlyInAnyOrderElementsOf(completionIds(g));
                });
    }

    @Test
    void shouldLeaveNoProcessBehindAndExitCleanly() {
        // then the killed services' children ended with them, and every service has stopped
        assertThat(services).allSatisfy(s -> assertThat(s.leftovers()).as(s.name()).isEmpty());
        assertThat(services).noneMatch(ServiceProcess::isAlive);
        // and the services that finish by themselves exited with 0
        assertThat(exitCodes).containsEntry("learner", 0).containsEntry("feeder", 0);
        assertThat(services.stream().filter(s -> s.incarnations() > 1).map(ServiceProcess::name))
                .containsExactlyInAnyOrder("sandbox-0", "actor-0", "learner");
        // and the sandbox incarnations that were stopped (SIGTERM) deleted their scripts
        // directories: only the SIGKILLed one can have left its own (its restart removes it when it
        // is older than a minute), where three incarnations made one each
        assertThat(sandboxDirsLeft)
                .as("sandbox script directories left")
                .hasSizeLessThanOrEqualTo(1);
    }

    /** The services' java.io.tmpdir. */
    private static Path serviceTmp() {
        return tmp.resolve("service-tmp");
    }

    // ----------------------------------------------------------------------- the scenario

    private ServiceProcess service(String name, String... command) {
        List<String> args = new ArrayList<>(List.of(command));
        args.addAll(
                List.of(
                        "--bootstrap", kafka.bootstrap(),
                        "--registry", kafka.registry(),
                        "--prefix", kafka.topicPrefix()));
        for (String s : settings()) {
            args.add("--set");
            args.add(s);
        }
        ServiceProcess p = new ServiceProcess(name, args, logDir, serviceTmp());
        services.add(p);
        return p;
    }

    /** The recipe of the run, shared by every service (a tiny, fast, fully deterministic loop). */
    private List<String> settings() {
        return List.of(
                "run.id=" + runId,
                "run.dir=" + tmp.resolve("runs"),
                "kafka.partitions=2",
                // A SIGKILLed member leaves its consumer group after 10 s instead of 45 s.
                "kafka.client.session.timeout.ms=10000",
                "policy.device.threads=1",
                "sampler.steps=8",
                "sampler.maxNewTokens=32",
                "grpo.maxCompletionLength=32",
                "grpo.numGenerations=" + G,
                "grpo.numIterations=" + ITERATIONS,
                // The untrained model earns 0 everywhere: keep those groups trainable.
                "advantages.zeroVariance=keep",
                "advantages.stateDir=" + tmp.resolve("streams-state"),
                "sandbox.workers=1",
                "feeder.maxTasks=" + TASKS,
                // One batch in flight: a checkpoint interval's second batch needs fresh groups,
                // so its first batch's steps stay uncommitted for a while (the learner kill).
                "feeder.maxAheadGroups=" + BATCH,
                "learner.batchGroups=" + BATCH,
                "learner.checkpointEveryBatches=" + CHECKPOINT_EVERY,
                "learner.maxSteps=" + STEPS,
                // This test is about bookkeeping under crashes, not the staleness policy.
                "learner.maxStaleness=1000");
    }

    private Set<String> expectedGroups() {
        return IntStream.range(0, TASKS)
                .mapToObj(i -> Actor.groupId(runId, i))
                .collect(Collectors.toCollection(TreeSet::new));
    }

    private static List<String> completionIds(String groupId) {
        return IntStream.range(0, G).mapToObj(m -> groupId + "/" + m).toList();
    }

    private static int trainedCheckpoints(TopicTail<Checkpoint> cps) {
        cps.poll(Duration.ofMillis(50));
        return (int)
                cps.values().stream().filter(c -> c.getKind() == CheckpointKind.TRAINED).count();
    }

    /** The newest checkpoint created before {@code t} among committed ones. */
    private static Checkpoint newestBefore(List<Checkpoint> committed, Instant t) {
        return committed.stream()
                .filter(c -> c.getCreatedAt().isBefore(t))
                .max(Comparator.comparingLong(Checkpoint::getVersion))
                .orElseThrow(() -> new AssertionError("no checkpoint committed before " + t));
    }

    private ServiceKill killSandboxAsItWrites(
            ServiceProcess sandbox, TopicTail<AdvantageGroup> settled) throws Exception {
        Set<Integer> mine = partitionsOf(SandboxService.consumerGroup(runId), sandbox.name());
        try (TopicTail<Execution> written = TopicTail.uncommitted(kafka, topics.executions())) {
            written.readToEnd(Duration.ofSeconds(30));
            TopicTail.Entry<Execution> e =
                    await(
                            sandbox.name() + " writing an execution",
                            () ->
                                    written.poll(Duration.ofMillis(20)).stream()
                                            .filter(
                                                    x ->
                                                            mine.isEmpty()
                                                                    || mine.contains(x.partition()))
                                            .findFirst()
                                            .orElse(null));
            Instant at = Instant.now();
            sandbox.kill();
            return new ServiceKill(
                    sandbox.name(),
                    at,
                    settledGroups(settled),
                    e.value().getGroupId(),
                    "wrote "
                            + e.value().getCompletionId()
                            + " on partition "
                            + e.partition()
                            + " (owns "
                            + mine
                            + ")");
        }
    }

    private ServiceKill killActorAsTaskArrives(
            ServiceProcess actor, TopicTail<AdvantageGroup> settled) throws Exception {
        Set<Integer> mine = partitionsOf(Actor.consumerGroup(runId), actor.name());
        try (TopicTail<Task> tasks = TopicTail.committed(kafka, topics.tasks())) {
            tasks.readToEnd(Duration.ofSeconds(30));
            TopicTail.Entry<Task> t =
                    await(
                            "a task for " + actor.name(),
                            () ->
                                    tasks.poll(Duration.ofMillis(20)).stream()
                                            .filter(
                                                    x ->
                                                            mine.isEmpty()
                                                                    || mine.contains(x.partition()))
                                            .findFirst()
                                            .orElse(null));
            Instant at = Instant.now();
            actor.kill();
            return new ServiceKill(
                    actor.name(),
                    at,
                    settledGroups(settled),
                    Actor.groupId(runId, t.value().getSequence()),
                    "task "
                            + t.value().getSequence()
                            + " arrived on partition "
                            + t.partition()
                            + " (owns "
                            + mine
                            + ")");
        }
    }

    /**
     * Waits until the learner has committed at least two trained checkpoints and has written a step
     * beyond the newest one (an open interval), confirms against the committed log that it is still
     * uncommitted, and kills it.
     */
    private LearnerKill killLearnerMidInterval(ServiceProcess learner, TopicTail<Checkpoint> cps)
            throws Exception {
        Instant since = learner.startedAt();
        try (TopicTail<TrainStep> written = TopicTail.uncommitted(kafka, topics.trainSteps())) {
            TrainStep open =
                    await(
                            "an open checkpoint interval of the learner",
                            () -> {
                                written.poll(Duration.ofMillis(20));
                                if (trainedCheckpoints(cps) < 2) {
                                    return null;
                                }
                                long committed = newestStep(cps.values());
                                Optional<TrainStep> s =
                                        written.values().stream()
                                                .filter(x -> x.getFinishedAt().isAfter(since))
                                                .filter(x -> x.getStep() > committed)
                                                .findFirst();
                                if (s.isEmpty()) {
                                    return null;
                                }
                                // the committed log up to its last stable offset, right now
                                cps.readToEnd(Duration.ofSeconds(10));
                                return s.get().getStep() > newestStep(cps.values())
                                        ? s.get()
                                        : null;
                            });
            Instant at = Instant.now();
            learner.kill();
            return new LearnerKill(at, open, null);
        }
    }

    private static long newestStep(List<Checkpoint> cps) {
        return cps.stream().mapToLong(Checkpoint::getStep).max().orElse(-1);
    }

    private static int settledGroups(TopicTail<AdvantageGroup> settled) {
        settled.poll(Duration.ofMillis(50));
        return settled.values().size();
    }

    /** Partitions assigned to the member with client id {@code clientId} (empty if unknown). */
    private Set<Integer> partitionsOf(String group, String clientId) throws Exception {
        ConsumerGroupDescription d =
                cluster.admin()
                        .describeConsumerGroups(List.of(group))
                        .all()
                        .get(10, TimeUnit.SECONDS)
                        .get(group);
        Set<Integer> out = new TreeSet<>();
        for (MemberDescription m : d.members()) {
            if (m.clientId().equals(clientId)) {
                m.assignment().topicPartitions().forEach(tp -> out.add(tp.partition()));
            }
        }
        return out;
    }

    /** Polls {@code probe} until it answers; fails with every service's log tail on timeout. */
    private <T> T await(String what, Supplier<T> probe) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            T v = probe.get();
            if (v != null) {
                return v;
            }
            for (ServiceProcess s : services) {
                if (!s.isAlive() && !s.name().equals("feeder")) {
                    throw new AssertionError(
                            "waiting for " + what + ": " + s + " died:\n    " + s.logTail(40));
                }
            }
            Thread.sleep(10);
        }
        StringBuilder sb = new StringBuilder("timed out after " + WAIT + " waiting for " + what);
        for (ServiceProcess s : services) {
            sb.append("\n  ").append(s).append(":\n    ").append(s.logTail(15));
        }
        throw new AssertionError(sb.toString());
    }

    private void readLogs() {
        Duration t = Duration.ofSeconds(60);
        try (TopicTail<TrainStep> committedSteps = TopicTail.committed(kafka, topics.trainSteps());
                TopicTail<TrainStep> writtenSteps =
                        TopicTail.uncommitted(kafka, topics.trainSteps());
                TopicTail<Checkpoint> cps = TopicTail.committed(kafka, topics.checkpoints());
                TopicTail<AdvantageGroup> adv = TopicTail.committed(kafka, topics.advantages());
                TopicTail<Completion> comp = TopicTail.committed(kafka, topics.completions());
                TopicTail<Execution> exec = TopicTail.committed(kafka, topics.executions());
                TopicTail<Execution> writtenExec =
                        TopicTail.uncommitted(kafka, topics.executions());
                TopicTail<Completion> writtenComp =
                        TopicTail.uncommitted(kafka, topics.completions())) {
            log = new StepLog(committedSteps.readToEnd(t).stream().map(e -> e.value()).toList());
            allWrittenSteps = writtenSteps.readToEnd(t).stream().map(e -> e.value()).toList();
            checkpoints = cps.readToEnd(t).stream().map(e -> e.value()).toList();
            advantagesAt = new HashMap<>();
            for (TopicTail.Entry<AdvantageGroup> e : adv.readToEnd(t)) {
                advantagesAt.put(e.partition() + "@" + e.offset(), e.value());
            }
            advantages = adv.values();
            completions = comp.readToEnd(t).stream().map(e -> e.value()).toList();
            executions = exec.readToEnd(t).stream().map(e -> e.value()).toList();
            allWrittenExecutions = writtenExec.readToEnd(t).stream().map(e -> e.value()).toList();
            allWrittenCompletions = writtenComp.readToEnd(t).size();
        }
    }

    private AdvantageGroup advantageAt(int partition, long offset) {
        return advantagesAt.get(partition + "@" + offset);
    }
}
