using Crisp.Cri.V1;
using Crisp.E2E.Fixtures;
using Grpc.Core;
using Xunit;

namespace Crisp.E2E.Images;

/// <summary>
/// PullImage as a kubelet with a RuntimeClass sends it: with the pod's sandbox_config and image.runtime_handler.
/// All handlers share one image store, so the handler changes nothing pulled, but it must be a configured one
/// and is answered back in Image.spec.runtime_handler.
/// </summary>
public sealed class PullForRuntimeHandlerTests(ImageDaemonFixture fixture) : IClassFixture<ImageDaemonFixture>
{
    private ImageService.ImageServiceClient Images => fixture.Daemon.Images;

    private RegistryWithImages Registry => fixture.Registry;

    /// <summary>A handler the daemon serves under its own name, as Status lists it.</summary>
    private async Task<string> ConfiguredHandlerAsync()
    {
        var status = await fixture.Daemon.Runtime.StatusAsync(new StatusRequest());
        return status.RuntimeHandlers.Select(h => h.Name).First(name => name != "");
    }

    private static PodSandboxConfig PodConfig() => new()
    {
        Metadata = new PodSandboxMetadata { Name = "web", Namespace = "default", Uid = "pod-uid-1" },
        Labels = { ["app"] = "web" },
        Annotations = { ["example.com/note"] = "must not change the pull" },
    };

    private async Task<Image?> StatusAsync(string reference, string runtimeHandler = "") =>
        (await Images.ImageStatusAsync(new ImageStatusRequest { Image = new ImageSpec { Image = reference, RuntimeHandler = runtimeHandler } })).Image;

    [Fact]
    public async Task A_pull_for_a_configured_handler_with_a_sandbox_config_gets_the_same_image_and_status_names_the_handler()
    {
        PushedImage busybox = Registry[TestImageNames.Busybox];
        string handler = await ConfiguredHandlerAsync();

        var response = await Images.PullImageAsync(new PullImageRequest
        {
            Image = new ImageSpec { Image = busybox.Reference, RuntimeHandler = handler },
            SandboxConfig = PodConfig(),
        });

        Assert.Equal(busybox.Image.ImageId, response.ImageRef);
        Image forHandler = (await StatusAsync(busybox.Reference, handler))!;
        Assert.Equal((response.ImageRef, handler), (forHandler.Id, forHandler.Spec.RuntimeHandler));
        Image forDefault = (await StatusAsync(busybox.Reference))!;
        Assert.Equal((response.ImageRef, ""), (forDefault.Id, forDefault.Spec.RuntimeHandler));
        var listed = await Images.ListImagesAsync(new ListImagesRequest
        {
            Filter = new ImageFilter { Image = new ImageSpec { Image = busybox.Reference, RuntimeHandler = handler } },
        });
        Assert.Equal(handler, Assert.Single(listed.Images).Spec.RuntimeHandler);
    }

    [Fact]
    public async Task A_pull_for_an_unknown_handler_is_refused_naming_the_field_and_pulls_nothing()
    {
        string reference = Registry.Reference(TestImageNames.Multilayer);

        var error = await Assert.ThrowsAsync<RpcException>(async () => await Images.PullImageAsync(new PullImageRequest
        {
            Image = new ImageSpec { Image = reference, RuntimeHandler = "no-such-handler" },
            SandboxConfig = PodConfig(),
        }));

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains("PullImageRequest.image.runtime_handler", error.Status.Detail);
        Assert.Contains("\"no-such-handler\"", error.Status.Detail);
        Assert.Null(await StatusAsync(reference));
        var statusError = await Assert.ThrowsAsync<RpcException>(async () => await StatusAsync(reference, "no-such-handler"));
        Assert.Equal(StatusCode.InvalidArgument, statusError.StatusCode);
        Assert.Contains("ImageStatusRequest.image.runtime_handler", statusError.Status.Detail);
    }
}
