`timescale 1ns/1ps
`default_nettype none
// Output buffer: one signed word per output line (COLS after FORWARD, ROWS after
// BACKWARD), held in a memory macro, not in flip-flops. Line l is converted by ADC
// l % ADCS in mux group l / ADCS, so the macro has one row per group and one word per
// converter in each row: GROUPS = ceil(WORDS / ADCS) rows of ADCS * OUT_BITS bits.
// The ADC code c (offset binary) is the signed value s = c - 2^(ADC_BITS-1).
// amplitude / pulse_width: word = s.  bit_serial: word = sum_k (s_k << k) over the
// phases k (shift-and-add of the signed partial results, LSB phase first; phase 0
// overwrites).
//
// What the buffer does per cycle, and so the macro's ports (docs/rtl.md):
//   - the last cycle of a group's conversion writes the group's row: all ADCS words at
//     once (write port);
//   - bit-serial inputs add to the words of that row (read-modify-write). The read is
//     issued ahead, at the edge that loads the group index (tile_mvm group_next), so
//     the old row is in the read register when the write comes; with a 1-cycle
//     converter (flash, cco) that edge is the previous group's write edge, so the macro
//     reads one row and writes another in the same cycle: one read and one write port;
//   - READ_OUTPUT reads one word per cycle: a row is read when the read moves into it
//     (its first word, or the word after the row's last), and the read register serves
//     its ADCS words.
// Writes and reads never meet in one row in the same cycle. The macro has no reset
// (words are written before they are read: every MVM writes each of its rows, and
// phase 0 overwrites); only the read pointer resets. yosys infers it as a memory
// ($mem), which the gate count leaves out; codesign.estimate prices it with CACTI
// (codesign.estimate.components.buffer_figure, shaped by codesign.cycles.output_buffer_macro).
module tile_obuf #(
    parameter integer WORDS        = 4,    // max(ROWS, COLS)
    parameter integer ADCS         = 2,
    parameter integer ADC_BITS     = 4,
    parameter integer OUT_BITS     = 4,
    parameter integer BIT_SERIAL   = 0,
    parameter integer GW           = 1,
    parameter integer PW           = 1
) (
    input  wire                     clk,
    input  wire                     rst,
    input  wire                     we,          // last cycle of a group's conversion
    input  wire [GW-1:0]            group,       // the group converted (row written)
    input  wire                     group_load,  // tile_mvm loads group_next this edge
    input  wire [GW-1:0]            group_next,
    input  wire [PW-1:0]            phase,
    input  wire [ADCS*ADC_BITS-1:0] codes,
    input  wire                     rd_start,    // a command is accepted: word 0 next
    input  wire                     rd_step,     // READ_OUTPUT took a word: the next one
    output wire [OUT_BITS-1:0]      rdata
);
    localparam integer GROUPS = (WORDS + ADCS - 1) / ADCS;
    localparam integer RW     = ADCS * OUT_BITS;          // bits per macro row
    localparam integer EXT    = OUT_BITS - ADC_BITS;      // sign-extension bits (>= 0)
    localparam integer CW0    = $clog2(ADCS);
    localparam integer CW     = (CW0 > 1) ? CW0 : 1;
    localparam integer C_L    = ADCS - 1;
    localparam [CW-1:0] C_LAST = C_L[CW-1:0];

    reg [RW-1:0] mem [0:GROUPS-1];
    reg [RW-1:0] row_q;                                   // the macro's read register

    // READ_OUTPUT's word pointer: row and word within the row (no divider)
    reg  [GW-1:0] rd_row;
    reg  [CW-1:0] rd_col;
    wire          wrap    = (rd_col == C_LAST);
    wire [GW-1:0] row_nxt = rd_start ? {GW{1'b0}} :
                            (rd_step && wrap) ? rd_row + 1'b1 : rd_row;
    wire [CW-1:0] col_nxt = rd_start ? {CW{1'b0}} :
                            rd_step ? (wrap ? {CW{1'b0}} : rd_col + 1'b1) : rd_col;
    always @(posedge clk) begin
        if (rst) begin
            rd_row <= {GW{1'b0}};
            rd_col <= {CW{1'b0}};
        end else begin
            rd_row <= row_nxt;
            rd_col <= col_nxt;
        end
    end

    // read port: the row ahead for a bit-serial accumulation, else the row READ_OUTPUT
    // moves into
    wire          re_acc = (BIT_SERIAL != 0) && group_load;
    wire          re     = re_acc || rd_start || (rd_step && wrap);
    wire [GW-1:0] raddr  = re_acc ? group_next : row_nxt;
    always @(posedge clk) begin
        if (re)
            row_q <= mem[raddr];
    end

    // write port: the group's row, one word per converter
    wire [RW-1:0] wdata;
    genvar a;
    generate
        for (a = 0; a < ADCS; a = a + 1) begin : g_word
            wire [ADC_BITS-1:0] c = codes[a*ADC_BITS +: ADC_BITS];
            // c - 2^(ADC_BITS-1): flip the MSB of the offset-binary code
            wire [ADC_BITS-1:0] s = {~c[ADC_BITS-1], c[ADC_BITS-2:0]};
            wire [OUT_BITS-1:0] s_ext;
            if (EXT > 0) begin : g_ext
                assign s_ext = {{EXT{s[ADC_BITS-1]}}, s};
            end else begin : g_noext
                assign s_ext = s;
            end
            if (BIT_SERIAL != 0) begin : g_acc
                wire [OUT_BITS-1:0] old = row_q[a*OUT_BITS +: OUT_BITS];
                assign wdata[a*OUT_BITS +: OUT_BITS] =
                    ((phase == {PW{1'b0}}) ? {OUT_BITS{1'b0}} : old) + (s_ext << phase);
            end else begin : g_set
                assign wdata[a*OUT_BITS +: OUT_BITS] = s_ext;
            end
        end
        if (BIT_SERIAL == 0) begin : g_no_acc
            wire unused_acc = &{1'b0, phase, group_next};   // only bit-serial accumulates
        end
    endgenerate

    always @(posedge clk) begin
        if (we)
            mem[group] <= wdata;
    end

    assign rdata = row_q[rd_col*OUT_BITS +: OUT_BITS];
endmodule
`default_nettype wire
