using System.Text;
using Crisp.ImageService.References;

namespace Crisp.ImageService.Snapshots;

/// <summary>
/// OCI chain IDs: the identity of a layer together with everything below it.
/// chainID(L0) = diffID(L0); chainID(Ln) = sha256(chainID(Ln-1) + " " + diffID(Ln)).
/// Two images whose lowest n layers are equal share the first n snapshots.
/// </summary>
public static class ChainIds
{
    public static IReadOnlyList<string> Compute(IReadOnlyList<string> diffIds)
    {
        var chain = new string[diffIds.Count];
        for (int i = 0; i < diffIds.Count; i++)
        {
            chain[i] = i == 0 ? diffIds[0] : Digests.Sha256Of(Encoding.ASCII.GetBytes(chain[i - 1] + " " + diffIds[i]));
        }
        return chain;
    }
}
