using Crisp.ImageService.Snapshots;
using Xunit;

namespace Crisp.ImageService.Tests.Snapshots;

public sealed class ChainIdsTests
{
    private static readonly string D1 = "sha256:" + new string('1', 64);
    private static readonly string D2 = "sha256:" + new string('2', 64);
    private static readonly string D3 = "sha256:" + new string('3', 64);

    [Fact]
    public void TheFirstChainIdIsTheFirstDiffId() => Assert.Equal([D1], ChainIds.Compute([D1]));

    [Fact]
    public void LaterChainIdsHashTheParentChainAndTheDiffId()
    {
        // Expected values computed independently: echo -n "sha256:111… sha256:222…" | sha256sum, and so on.
        Assert.Equal(
            [
                D1,
                "sha256:9932074217c35353d2e03a3f5a86549f7c67bfeb0ba53e23d69f4d4c8f7958f5",
                "sha256:50127c0d6b338be78246434b4bce23ecf75e505158ea0bbd15effeb162fbf3ec",
            ],
            ChainIds.Compute([D1, D2, D3]));
    }

    [Fact]
    public void NoLayersNoChain() => Assert.Empty(ChainIds.Compute([]));
}
