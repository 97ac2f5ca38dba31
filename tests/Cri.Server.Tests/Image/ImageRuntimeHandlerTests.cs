using Crisp.ImageService.Api;
using Crisp.Server.Services.Image;
using Xunit;

namespace Crisp.Server.Tests.Image;

public sealed class ImageRuntimeHandlerTests
{
    private static readonly string[] Configured = ["runc", "kata"];

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    public void NoHandlerIsTheDefaultOne(string? requested) =>
        Assert.Equal("", ImageRuntimeHandler.Resolve(requested, Configured, "PullImageRequest.image.runtime_handler"));

    [Fact]
    public void AConfiguredHandlerIsAnsweredBack() =>
        Assert.Equal("kata", ImageRuntimeHandler.Resolve("kata", Configured, "PullImageRequest.image.runtime_handler"));

    [Fact]
    public void AnUnknownHandlerIsRefusedNamingTheFieldAndTheKnownHandlers()
    {
        var error = Assert.Throws<ImageServiceException>(() => ImageRuntimeHandler.Resolve("gvisor", Configured, "PullImageRequest.image.runtime_handler"));

        Assert.Equal(ImageErrorKind.InvalidArgument, error.Kind);
        Assert.Contains("PullImageRequest.image.runtime_handler", error.Message);
        Assert.Contains("\"gvisor\"", error.Message);
        Assert.Contains("known: kata, runc", error.Message);
    }

    [Fact]
    public void HandlerNamesAreCaseSensitive() =>
        Assert.Throws<ImageServiceException>(() => ImageRuntimeHandler.Resolve("RUNC", Configured, "ImageStatusRequest.image.runtime_handler"));
}
