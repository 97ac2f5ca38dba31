using System.Text.Json;
using Crisp.Cri.V1;
using Crisp.Runtime.Api;
using Crisp.Runtime.Tests.Fakes;
using Xunit;

namespace Crisp.Runtime.Tests.ImageVolumes;

/// <summary>Image volumes through CreateContainer and removal: shared mount, reference count in the records, GC, recovery.</summary>
public sealed class ImageVolumeManagerTests : IDisposable
{
    private readonly RuntimeHarness _runtime = new();

    public void Dispose() => _runtime.Dispose();

    private string VolumeMountPoint => Path.Combine(_runtime.Layout.ImageVolumesDir, _runtime.Images.VolumeImage.Id.Replace(':', '-'), "rootfs");

    private static CreateContainerRequest WithVolume(string sandboxId, string name, string image = FakeImageManager.VolumeReference, string subPath = "")
    {
        var request = RuntimeHarness.ContainerRequest(sandboxId, name);
        request.Config.Mounts.Add(new Mount { ContainerPath = "/data", Image = new ImageSpec { Image = image }, ImageSubPath = subPath, Readonly = true });
        return request;
    }

    private Task<string> CreateWithVolumeAsync(string sandboxId, string name, string subPath = "") =>
        _runtime.Creator.CreateContainerAsync(WithVolume(sandboxId, name, subPath: subPath), CancellationToken.None);

    private Task RemoveAsync(string containerId) =>
        _runtime.Teardown.RemoveContainerAsync(new RemoveContainerRequest { ContainerId = containerId }, CancellationToken.None);

    private (string Source, List<string> Options) DataMountOf(string containerId)
    {
        using var spec = JsonDocument.Parse(_runtime.Store.FindContainer(containerId)!.SpecJson);
        var mount = spec.RootElement.GetProperty("mounts").EnumerateArray().Single(m => m.GetProperty("destination").GetString() == "/data");
        return (mount.GetProperty("source").GetString()!, mount.GetProperty("options").EnumerateArray().Select(o => o.GetString()!).ToList());
    }

    [Fact]
    public async Task Two_pods_share_one_read_only_mount_that_goes_with_its_last_user()
    {
        var first = await CreateWithVolumeAsync(await _runtime.RunPodAsync(), "a");
        var secondPod = await _runtime.Sandboxes.RunPodSandboxAsync(RuntimeHarness.PodRequest("other"), CancellationToken.None);
        var second = await CreateWithVolumeAsync(secondPod, "b");

        Assert.Equal(1, _runtime.Mounts.ImageVolumeMounts);
        Assert.Contains(VolumeMountPoint, _runtime.Mounts.Mounted);
        foreach (var id in new[] { first, second })
        {
            var (source, options) = DataMountOf(id);
            Assert.Equal(VolumeMountPoint, source);
            Assert.Equal(["rbind", "rprivate", "ro"], options);
            Assert.Equal(_runtime.Images.VolumeImage.Id, Assert.Single(_runtime.Store.FindContainer(id)!.ImageVolumes).ImageId);
        }

        await RemoveAsync(first);
        Assert.Contains(VolumeMountPoint, _runtime.Mounts.Mounted);
        await RemoveAsync(second);
        Assert.DoesNotContain(VolumeMountPoint, _runtime.Mounts.Mounted);
        Assert.False(Directory.Exists(Path.GetDirectoryName(VolumeMountPoint)));
        Assert.Equal(0, _runtime.Images.Collections);
    }

    [Fact]
    public async Task A_pod_removal_releases_the_volume_of_all_its_containers_at_once()
    {
        var pod = await _runtime.RunPodAsync();
        await CreateWithVolumeAsync(pod, "a");
        await CreateWithVolumeAsync(pod, "b");

        await _runtime.Sandboxes.StopPodSandboxAsync(new StopPodSandboxRequest { PodSandboxId = pod }, CancellationToken.None);
        await _runtime.Sandboxes.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = pod }, CancellationToken.None);

        _runtime.AssertNothingLeft();
    }

    [Fact]
    public async Task Removing_the_image_while_mounted_keeps_it_until_the_last_user_goes_then_collects_it()
    {
        var pod = await _runtime.RunPodAsync();
        var container = await CreateWithVolumeAsync(pod, "a");

        await _runtime.Images.RemoveAsync(FakeImageManager.VolumeReference, CancellationToken.None);
        Assert.Contains(VolumeMountPoint, _runtime.Mounts.Mounted);
        Assert.Equal(0, _runtime.Images.Collections);

        await RemoveAsync(container);
        Assert.Equal(1, _runtime.Images.Collections);
        Assert.DoesNotContain(VolumeMountPoint, _runtime.Mounts.Mounted);
    }

    [Fact]
    public async Task A_missing_image_is_a_failed_precondition_naming_field_and_image_and_nothing_is_made()
    {
        var pod = await _runtime.RunPodAsync();
        var error = await Assert.ThrowsAsync<RuntimeException>(() =>
            _runtime.Creator.CreateContainerAsync(WithVolume(pod, "a", image: "example.test/absent:2"), CancellationToken.None));

        Assert.Equal(RuntimeErrorKind.FailedPrecondition, error.Kind);
        Assert.StartsWith("config.mounts[0].image.image:", error.Message);
        Assert.Contains("example.test/absent:2", error.Message);
        Assert.Empty(_runtime.Store.Containers);
        Assert.Equal(0, _runtime.Mounts.ImageVolumeMounts);
    }

    [Fact]
    public async Task A_pod_with_its_own_user_namespace_gets_its_own_idmapped_mount_gone_with_its_last_user()
    {
        var request = RuntimeHarness.PodRequest("userns");
        request.Config.Linux.SecurityContext.NamespaceOptions.UsernsOptions = Namespaces.UserNamespaceMappingsTests.Pod();
        var userPod = await _runtime.Sandboxes.RunPodSandboxAsync(request, CancellationToken.None);
        var shared = await CreateWithVolumeAsync(await _runtime.RunPodAsync(), "shared");
        var first = await CreateWithVolumeAsync(userPod, "a");
        var second = await CreateWithVolumeAsync(userPod, "b", subPath: "");

        var podOwn = Path.Combine(_runtime.Layout.SandboxesStateRoot, userPod, "image-volumes", _runtime.Images.VolumeImage.Id.Replace(':', '-'), "rootfs");
        Assert.Equal(2, _runtime.Mounts.ImageVolumeMounts); // the shared one and the pod's own, each once
        Assert.Equal(_runtime.Store.FindSandbox(userPod)!.UserNamespacePath, _runtime.Mounts.ImageVolumeIdmaps[podOwn]);
        Assert.Null(_runtime.Mounts.ImageVolumeIdmaps[VolumeMountPoint]);
        Assert.Equal(podOwn, DataMountOf(first).Source);
        Assert.Equal(podOwn, DataMountOf(second).Source);
        Assert.Equal(VolumeMountPoint, DataMountOf(shared).Source);
        Assert.Equal(_runtime.Images.VolumeImage.Id, Crisp.Runtime.ImageVolumes.ImageVolumeManager.ImageIdOfSource(_runtime.Layout, podOwn));

        await RemoveAsync(first);
        Assert.Contains(podOwn, _runtime.Mounts.Mounted);
        await RemoveAsync(second);
        Assert.DoesNotContain(podOwn, _runtime.Mounts.Mounted);
        Assert.False(Directory.Exists(Path.GetDirectoryName(podOwn)));
        Assert.Contains(VolumeMountPoint, _runtime.Mounts.Mounted);
    }

    [Fact]
    public async Task A_sub_path_missing_from_the_image_rolls_the_create_back_and_frees_the_volume()
    {
        var pod = await _runtime.RunPodAsync();
        var error = await Assert.ThrowsAsync<RuntimeException>(() => CreateWithVolumeAsync(pod, "a", subPath: "usr/absent"));

        Assert.Equal(RuntimeErrorKind.InvalidArgument, error.Kind);
        Assert.StartsWith("config.mounts[0].image_sub_path:", error.Message);
        Assert.Empty(_runtime.Store.Containers);
        Assert.DoesNotContain(VolumeMountPoint, _runtime.Mounts.Mounted);
    }

    [Fact]
    public async Task A_restart_keeps_a_volume_in_use_without_mounting_it_again_and_drops_an_unused_one()
    {
        var pod = await _runtime.RunPodAsync();
        var container = await CreateWithVolumeAsync(pod, "a");
        // What a crash between mounting and recording would leave: a mount no record names.
        var orphan = Path.Combine(_runtime.Layout.ImageVolumesDir, "sha256-" + new string('e', 64), "rootfs");
        await _runtime.Mounts.MountImageVolumeAsync([], Path.Combine(orphan, "..", "empty"), orphan, null, CancellationToken.None);

        using var restarted = _runtime.Restart();
        await restarted.Recovery.RecoverAsync(CancellationToken.None);

        Assert.Contains(VolumeMountPoint, restarted.Mounts.Mounted);
        Assert.DoesNotContain(orphan, restarted.Mounts.Mounted);
        Assert.False(Directory.Exists(Path.GetDirectoryName(orphan)));

        var another = await restarted.Creator.CreateContainerAsync(WithVolume(pod, "b"), CancellationToken.None);
        Assert.Equal(2, restarted.Mounts.ImageVolumeMounts); // the volume once, the orphan once: nothing mounted twice
        await restarted.Teardown.RemoveContainerAsync(new RemoveContainerRequest { ContainerId = container }, CancellationToken.None);
        await restarted.Teardown.RemoveContainerAsync(new RemoveContainerRequest { ContainerId = another }, CancellationToken.None);
        Assert.DoesNotContain(VolumeMountPoint, restarted.Mounts.Mounted);
    }

    [Fact]
    public async Task A_container_rebuilt_from_its_bundle_after_the_database_was_lost_gets_its_image_volumes_back()
    {
        var pod = await _runtime.RunPodAsync();
        var container = await CreateWithVolumeAsync(pod, "a");
        _runtime.WriteExitFile(container, 0);

        var emptied = new InMemoryStateStore();
        await _runtime.RebuilderInto(emptied).RebuildAsync(CancellationToken.None);

        var volume = Assert.Single(emptied.FindContainer(container)!.ImageVolumes);
        Assert.Equal(_runtime.Images.VolumeImage.Id, volume.ImageId);
        Assert.Equal(_runtime.Images.VolumeImage.LayerDirs, volume.LayerDirs);
    }

    [Theory]
    [InlineData("sha256-abc/rootfs", "sha256:abc")]
    [InlineData("sha256-abc/rootfs/etc/conf", "sha256:abc")]
    [InlineData("sha256-abc/empty", null)]
    [InlineData("sha256-abc", null)]
    [InlineData("../containers/x/rootfs", null)]
    public void A_bind_source_names_the_image_whose_volume_it_lies_in(string relativeSource, string? imageId) =>
        Assert.Equal(imageId, Crisp.Runtime.ImageVolumes.ImageVolumeManager.ImageIdOfSource(
            _runtime.Layout, Path.Combine(_runtime.Layout.ImageVolumesDir, relativeSource)));
}
