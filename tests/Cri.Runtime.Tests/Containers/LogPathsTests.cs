using Xunit;
using Crisp.Runtime.Api;
using Crisp.Runtime.Containers;

namespace Crisp.Runtime.Tests.Containers;

public sealed class LogPathsTests
{
    [Fact]
    public void Joins_the_pod_log_directory_and_the_container_log_path()
    {
        Assert.Equal("/var/log/pods/ns_pod_uid/app/0.log", LogPaths.Resolve("/var/log/pods/ns_pod_uid", "app/0.log"));
        Assert.Equal("", LogPaths.Resolve("/var/log/pods/x", ""));
    }

    [Theory]
    [InlineData("../escape.log")]
    [InlineData("app/../../escape.log")]
    [InlineData("/etc/passwd")]
    public void Refuses_paths_escaping_the_log_directory(string logPath)
    {
        var ex = Assert.Throws<RuntimeException>(() => LogPaths.Resolve("/var/log/pods/x", logPath));
        Assert.Equal(RuntimeErrorKind.InvalidArgument, ex.Kind);
        Assert.Contains("log_path", ex.Message);
    }

    [Fact]
    public void Refuses_a_log_path_without_a_log_directory()
    {
        var ex = Assert.Throws<RuntimeException>(() => LogPaths.Resolve("", "app/0.log"));
        Assert.Contains("log_directory", ex.Message);
    }
}
