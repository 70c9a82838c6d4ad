namespace SparseCircuits.Tasks;

/// <summary>
/// A contrast pair as the model sees it: the two prompts' token ids (including a leading
/// end-of-text token when the dataset adds one), and the answer ids. After
/// <see cref="Positive"/> the correct token is <see cref="TokId"/>; after <see cref="Negative"/>
/// it is <see cref="AltId"/>. <see cref="Text"/> is the pair's text when it came from text.
/// </summary>
public sealed record EncodedPair(int[] Positive, int[] Negative, int TokId, int AltId, ContrastPair? Text = null);
