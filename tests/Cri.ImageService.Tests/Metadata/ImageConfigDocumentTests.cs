using Crisp.ImageService.Api;
using Crisp.ImageService.Metadata;
using Xunit;

namespace Crisp.ImageService.Tests.Metadata;

public sealed class ImageConfigDocumentTests
{
    [Fact]
    public void ReadsTheRunConfigAndDiffIds()
    {
        const string json = """
            {"architecture":"arm64","os":"linux",
             "config":{"User":"nobody","Env":["PATH=/bin","A=b"],"Entrypoint":["/init"],"Cmd":["serve","--port","80"],
                       "WorkingDir":"/srv","Labels":{"team":"x"},"StopSignal":"SIGQUIT"},
             "rootfs":{"type":"layers","diff_ids":["sha256:1111111111111111111111111111111111111111111111111111111111111111"]}}
            """;

        ImageConfigDocument document = ImageConfigDocument.Parse(json, "cfg");

        ImageConfig config = document.Config;
        Assert.Equal("nobody", config.User);
        Assert.Equal(["PATH=/bin", "A=b"], config.Env);
        Assert.Equal(["/init"], config.Entrypoint);
        Assert.Equal(["serve", "--port", "80"], config.Cmd);
        Assert.Equal("/srv", config.WorkingDir);
        Assert.Equal("x", config.Labels["team"]);
        Assert.Equal("SIGQUIT", config.StopSignal);
        Assert.Equal(("linux", "arm64"), (config.Os, config.Architecture));
        Assert.Equal(json, config.RawJson);
        Assert.Equal(["sha256:1111111111111111111111111111111111111111111111111111111111111111"], document.DiffIds);
    }

    [Fact]
    public void MissingRunConfigMeansEmptyValues()
    {
        ImageConfigDocument document = ImageConfigDocument.Parse("""{"rootfs":{"diff_ids":[]}}""", "cfg");

        Assert.Null(document.Config.User);
        Assert.Empty(document.Config.Cmd);
        Assert.Empty(document.Config.Labels);
        Assert.Empty(document.DiffIds);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("[]")]
    [InlineData("""{"config":{}}""")]
    [InlineData("""{"rootfs":{"diff_ids":["md5:abc"]}}""")]
    public void InvalidConfigsAreDataLoss(string json)
    {
        var error = Assert.Throws<ImageServiceException>(() => ImageConfigDocument.Parse(json, "sha256:cfg"));
        Assert.Equal(ImageErrorKind.DataLoss, error.Kind);
        Assert.Contains("sha256:cfg", error.Message);
    }
}
