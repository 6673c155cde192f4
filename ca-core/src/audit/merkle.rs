//! Merkle tree hashing of the audit log as RFC 6962 / RFC 9162 (§2.1) define it
//! for Certificate Transparency: leaves hashed with a 0x00 prefix, interior nodes
//! with 0x01, the tree over the first `n` leaves split at the largest power of two
//! below `n`. A [`Frontier`] adds leaves one at a time and gives the root at every
//! size; consistency proofs (§2.1.4) show that a log of `n` records extends the log
//! of `m` records a checkpoint vouched for, without changing any of them.

use sha2::{Digest, Sha256};

/// A SHA-256 hash.
pub type Hash = [u8; 32];

/// The hash of a leaf: SHA-256(0x00 || data).
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(data);
    h.finalize().into()
}

/// The hash of an interior node: SHA-256(0x01 || left || right).
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The root of the empty tree: SHA-256 of nothing.
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// The roots of the perfect subtrees that make up a tree of `size` leaves, left
/// to right (one per set bit of `size`): enough to add the next leaf and to give
/// the root, in O(log n) memory.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Frontier {
    size: u64,
    /// (height, root) of each perfect subtree, largest first.
    nodes: Vec<(u32, Hash)>,
}

impl Frontier {
    /// The tree's size.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Add the leaf whose hash is `leaf`.
    pub fn push(&mut self, leaf: Hash) {
        let mut node = (0u32, leaf);
        while let Some(&(height, left)) = self.nodes.last() {
            if height != node.0 {
                break;
            }
            self.nodes.pop();
            node = (height + 1, node_hash(&left, &node.1));
        }
        self.nodes.push(node);
        self.size += 1;
    }

    /// The root (RFC 9162 MTH) of the tree so far.
    pub fn root(&self) -> Hash {
        let mut nodes = self.nodes.iter().rev();
        let Some(&(_, mut acc)) = nodes.next() else {
            return empty_root();
        };
        for (_, left) in nodes {
            acc = node_hash(left, &acc);
        }
        acc
    }
}

/// The root of the tree over `leaves` (RFC 9162 MTH).
pub fn root(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => empty_root(),
        1 => leaves[0],
        n => {
            let k = split(n);
            node_hash(&root(&leaves[..k]), &root(&leaves[k..]))
        }
    }
}

/// The largest power of two smaller than `n` (n ≥ 2).
fn split(n: usize) -> usize {
    1 << (usize::BITS - 1 - (n - 1).leading_zeros())
}

/// The consistency proof between the tree of the first `m` leaves and the tree of
/// all `leaves` (RFC 9162 §2.1.4.1); empty when `m` is 0 or the whole tree.
pub fn consistency_proof(m: usize, leaves: &[Hash]) -> Vec<Hash> {
    if m == 0 || m >= leaves.len() {
        return Vec::new();
    }
    let mut proof = Vec::new();
    subproof(m, leaves, true, &mut proof);
    proof
}

fn subproof(m: usize, leaves: &[Hash], complete: bool, proof: &mut Vec<Hash>) {
    let n = leaves.len();
    if m == n {
        if !complete {
            proof.push(root(leaves));
        }
        return;
    }
    let k = split(n);
    if m <= k {
        subproof(m, &leaves[..k], complete, proof);
        proof.push(root(&leaves[k..]));
    } else {
        subproof(m - k, &leaves[k..], false, proof);
        proof.push(root(&leaves[..k]));
    }
}

/// Check a consistency proof (RFC 9162 §2.1.4.2): the tree of `m` leaves with root
/// `old` is a prefix of the tree of `n` leaves with root `new`.
pub fn verify_consistency(m: u64, n: u64, old: &Hash, new: &Hash, proof: &[Hash]) -> bool {
    if m > n {
        return false;
    }
    if m == n {
        return old == new && proof.is_empty();
    }
    if m == 0 {
        return proof.is_empty();
    }
    let mut path: Vec<Hash> = proof.to_vec();
    // A power-of-two old tree is its own first node.
    if m.is_power_of_two() {
        path.insert(0, *old);
    }
    let Some((first, rest)) = path.split_first() else { return false };
    let (mut fn_, mut sn) = (m - 1, n - 1);
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    let (mut fr, mut sr) = (*first, *first);
    for c in rest {
        if sn == 0 {
            return false;
        }
        if fn_ & 1 == 1 || fn_ == sn {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if fn_ & 1 == 0 {
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    sn == 0 && &fr == old && &sr == new
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The eight leaves of the Certificate Transparency reference tests.
    fn leaves() -> Vec<Hash> {
        ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"]
            .iter()
            .map(|h| leaf_hash(&hex::decode(h).unwrap()))
            .collect()
    }

    /// Their roots at sizes 1 to 8, as published with those tests.
    const ROOTS: [&str; 8] = [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ];

    #[test]
    fn roots_match_the_reference_vectors_both_ways() {
        let leaves = leaves();
        assert_eq!(hex::encode(empty_root()), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        let mut frontier = Frontier::default();
        for (i, leaf) in leaves.iter().enumerate() {
            frontier.push(*leaf);
            assert_eq!(hex::encode(frontier.root()), ROOTS[i], "size {}", i + 1);
            assert_eq!(hex::encode(root(&leaves[..=i])), ROOTS[i], "size {}", i + 1);
        }
    }

    #[test]
    fn consistency_proofs_verify_and_tampering_does_not() {
        let leaves: Vec<Hash> = (0..40u32).map(|i| leaf_hash(&i.to_be_bytes())).collect();
        for n in 1..=leaves.len() {
            let new = root(&leaves[..n]);
            for m in 0..=n {
                let old = root(&leaves[..m]);
                let proof = consistency_proof(m, &leaves[..n]);
                assert!(verify_consistency(m as u64, n as u64, &old, &new, &proof), "m={m} n={n}");
                if m > 0 && m < n {
                    // Another old root, a changed proof, a wrong size: refused.
                    let mut other = old;
                    other[0] ^= 1;
                    assert!(!verify_consistency(m as u64, n as u64, &other, &new, &proof), "m={m} n={n}");
                    let mut bad = proof.clone();
                    bad[0][5] ^= 1;
                    assert!(!verify_consistency(m as u64, n as u64, &old, &new, &bad), "m={m} n={n}");
                }
            }
        }
        // The RFC's own example: m = 3 in a tree of 7 is [c, d, g, l].
        let seven = &leaves[..7];
        assert_eq!(consistency_proof(3, seven).len(), 4);
    }
}
