using Crisp.Cri.V1;
using Crisp.ImageService.Api;
using Grpc.Core;

namespace Crisp.Server.Services.Image;

public sealed partial class CrispImageService
{
    /// <summary>
    /// Pulls (or finds present) the image and answers its id, the same "sha256:…" that Image.id and a
    /// container's image_id carry. All runtime handlers share one image store, so image.runtime_handler
    /// needs no separate pull, but an unknown one is refused before anything is fetched. sandbox_config
    /// (the pod's labels, annotations, namespaces) does not change the content pulled: crisp has one
    /// snapshotter and no per-pod pull policy. user_specified_image (the name as the pod spec wrote it)
    /// is kept and served back in Image.spec.
    /// </summary>
    public override async Task<PullImageResponse> PullImage(PullImageRequest request, ServerCallContext context)
    {
        string reference = request.Image?.Image ?? "";
        if (string.IsNullOrWhiteSpace(reference))
        {
            throw new ImageServiceException(ImageErrorKind.InvalidArgument, "PullImageRequest.image.image is empty");
        }
        RuntimeHandler(request.Image, "PullImageRequest.image.runtime_handler");
        ImageRecord image = await images.PullAsync(reference, ImageMessages.Credentials(request.Auth), context.CancellationToken,
            userSpecifiedImage: request.Image!.UserSpecifiedImage);
        return new PullImageResponse { ImageRef = image.Id };
    }
}
