package dev.diffustream.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class DeviceRuntimeTest {

    @Test
    void shouldFixTheIntraOpThreadCountWhenInitialized() {
        // when
        Device device =
                DeviceRuntime.initialize(new DeviceConfig(DeviceChoice.CPU, "float32", 2, 1));

        // then
        assertThat(device).isEqualTo(Device.cpu());
        assertThat(DeviceRuntime.threads()).isEqualTo(2);
        DeviceRuntime.initialize(DeviceConfig.defaults());
        assertThat(DeviceRuntime.threads()).isEqualTo(1);
        assertThat(System.getProperty("ai.djl.pytorch.num_threads")).isNotNull();
    }

    @Test
    void shouldFailClearlyWhenAGpuIsRequiredButAbsent() {
        DeviceRuntime.initialize(DeviceConfig.defaults());
        assumeTrue(
                Engine.getEngine(DeviceRuntime.ENGINE).getGpuCount() == 0,
                "this machine has a GPU");
        assertThatThrownBy(DeviceChoice.GPU::resolve)
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("0 GPUs");
        assertThat(DeviceChoice.AUTO.resolve()).isEqualTo(Device.cpu());
    }

    @Test
    void shouldRestoreThreadCountWhenBodyRanWithOtherCountOrThrew() {
        DeviceRuntime.initialize(DeviceConfig.defaults());
        int before = DeviceRuntime.threads();
        int other = before == 1 ? 2 : 1;

        assertThat(DeviceRuntime.withThreads(other, DeviceRuntime::threads)).isEqualTo(other);
        assertThat(DeviceRuntime.threads()).isEqualTo(before);
        assertThatThrownBy(
                        () ->
                                DeviceRuntime.withThreads(
                                        other,
                                        () -> {
                                            throw new java.io.IOException("boom");
                                        }))
                .hasMessage("boom");
        assertThat(DeviceRuntime.threads()).isEqualTo(before);
        assertThatThrownBy(() -> DeviceRuntime.withThreads(0, DeviceRuntime::threads))
                .hasMessageContaining("threads must be >= 1, got 0");
    }

    @Test
    void shouldLeaveAnotherThreadsCountAloneWhenOneThreadRunsWithMoreThreads() throws Exception {
        // the local --sync learner trains with 2 threads in the JVM whose actors keep 1
        DeviceRuntime.initialize(DeviceConfig.defaults());
        CountDownLatch otherReady = new CountDownLatch(1);
        CountDownLatch bodyRan = new CountDownLatch(1);
        AtomicInteger otherBefore = new AtomicInteger();
        AtomicInteger otherDuring = new AtomicInteger();
        Thread other =
                new Thread(
                        () -> {
                            try (NDManager m = NDManager.newBaseManager()) {
                                m.ones(new Shape(64, 64)).matMul(m.ones(new Shape(64, 64)));
                                otherBefore.set(DeviceRuntime.threads());
                                otherReady.countDown();
                                bodyRan.await();
                                otherDuring.set(DeviceRuntime.threads());
                            } catch (InterruptedException e) {
                                Thread.currentThread().interrupt();
                            }
                        });
        other.start();
        otherReady.await();

        int inside =
                DeviceRuntime.withThreads(
                        2,
                        () -> {
                            bodyRan.countDown();
                            other.join();
                            return DeviceRuntime.threads();
                        });

        assertThat(inside).isEqualTo(2);
        assertThat(otherBefore.get()).isEqualTo(1);
        assertThat(otherDuring.get()).isEqualTo(1);
        assertThat(DeviceRuntime.threads()).isEqualTo(1);
    }

    @Test
    void shouldParseDeviceNamesCaseInsensitivelyWhenReadFromConfig() {
        assertThat(DeviceChoice.parse(" GPU ")).isEqualTo(DeviceChoice.GPU);
        assertThat(DeviceChoice.parse("auto")).isEqualTo(DeviceChoice.AUTO);
        assertThatThrownBy(() -> DeviceChoice.parse("tpu")).hasMessageContaining("'tpu'");
    }

    @Test
    void shouldDisableAndRestoreGradModeWhenRunningNoGrad() throws Exception {
        DeviceRuntime.initialize(DeviceConfig.defaults());
        AtomicBoolean inside = new AtomicBoolean(true);
        AtomicBoolean after = new AtomicBoolean(false);
        // a fresh thread starts with PyTorch's default: grad mode on
        Thread t =
                new Thread(
                        () -> {
                            DeviceRuntime.noGrad(
                                    () -> {
                                        inside.set(JniUtils.isGradMode());
                                        return null;
                                    });
                            after.set(JniUtils.isGradMode());
                        });
        t.start();
        t.join();
        assertThat(inside.get()).isFalse();
        assertThat(after.get()).isTrue();
    }
}
