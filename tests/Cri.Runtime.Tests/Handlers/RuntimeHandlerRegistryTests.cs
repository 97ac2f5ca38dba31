using Xunit;
using Crisp.Runtime.Handlers;

namespace Crisp.Runtime.Tests.Handlers;

public sealed class RuntimeHandlerRegistryTests
{
    [Fact]
    public void Unknown_default_is_refused_at_construction()
    {
        Assert.Throws<ArgumentException>(() => new RuntimeHandlerRegistry([], "runc"));
    }
}
